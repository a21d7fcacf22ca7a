"""The GraphQL schema: Strawberry types, inputs, loaders and the error mapping."""
