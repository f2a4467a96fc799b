"""A 1C:Управление холдингом-like infobase emulator: standard OData, the HTTP service, SOAP."""
