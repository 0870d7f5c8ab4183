"""The tenant registry (`platform.tenants`, their numbers and provisioning progress) and what a super
admin sends to create one. Every other feature reads tenants through `registry`."""
