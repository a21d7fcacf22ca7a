"""The HTTP and WebSocket surface: Starlette, the GraphQL view, and start-up."""
