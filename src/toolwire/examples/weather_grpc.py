"""The seed's gRPC ``WeatherService`` (proto exactly as in the seed), with reflection on.

Reflection lets ``toolwire.remote.grpc.load("127.0.0.1:50051")`` discover ``GetWeather``
and turn it into a tool without the .proto file. The weather is simulated, as in the seed.

Run it::

    python -m toolwire.examples.weather_grpc --port 50051
"""

from __future__ import annotations

import argparse
import asyncio
from typing import Any

from toolwire._errors import MissingExtra

try:
    import grpc
    from grpc_health.v1 import health, health_pb2, health_pb2_grpc
    from grpc_reflection.v1alpha import reflection
except ImportError as exc:  # pragma: no cover - exercised only without the extra
    raise MissingExtra("grpcio", "grpc") from exc

from toolwire.examples.proto import weather_pb2, weather_pb2_grpc

SERVICE_NAME = weather_pb2.DESCRIPTOR.services_by_name["WeatherService"].full_name


class WeatherService(weather_pb2_grpc.WeatherServiceServicer):
    """``GetWeather(Location) -> WeatherData``: simulated data, ``{"temp": 25, "humidity": 60}``."""

    async def GetWeather(  # the RPC's name in the seed's proto
        self, request: weather_pb2.Location, context: Any
    ) -> weather_pb2.WeatherData:
        if not request.name.strip():
            await context.abort(grpc.StatusCode.INVALID_ARGUMENT, "name must not be empty")
        return weather_pb2.WeatherData(temp=25, humidity=60)


async def start(host: str = "127.0.0.1", port: int = 0) -> tuple[Any, int]:
    """Start the server (reflection and health on); returns ``(server, bound_port)``.

    Example::

        server, port = await start()
        ...
        await server.stop(None)
    """
    server = grpc.aio.server()
    register: Any = weather_pb2_grpc.add_WeatherServiceServicer_to_server  # generated, untyped
    register(WeatherService(), server)
    checker = health.aio.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(checker, server)
    names = (SERVICE_NAME, health_pb2.DESCRIPTOR.services_by_name["Health"].full_name)
    reflection.enable_server_reflection((*names, reflection.SERVICE_NAME), server)
    bound = server.add_insecure_port(f"{host}:{port}")
    await server.start()
    await checker.set(SERVICE_NAME, health_pb2.HealthCheckResponse.SERVING)
    return server, bound


async def _serve(host: str, port: int) -> None:
    server, bound = await start(host, port)
    print(f"WeatherService listening on {host}:{bound} (reflection on)", flush=True)
    await server.wait_for_termination()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=50051)
    args = parser.parse_args(argv)
    asyncio.run(_serve(args.host, args.port))


if __name__ == "__main__":  # pragma: no cover
    main()
