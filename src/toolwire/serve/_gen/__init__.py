"""Generated gRPC code for ``toolwire/v1/tools.proto`` (``python -m toolwire.serve._codegen``)."""
