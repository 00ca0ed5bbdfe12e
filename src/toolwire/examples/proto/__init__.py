"""The seed's gRPC ``WeatherService`` proto and its generated modules."""
