"""mipc, the Managed IP Phone Compiler: inventories of desk phones compiled to static trees."""

__version__ = "0.1.0"
