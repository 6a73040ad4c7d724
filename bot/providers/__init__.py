"""Provider clients: one module per provider, each on an injected ``httpx.AsyncClient``."""
