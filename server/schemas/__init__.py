"""marshmallow In/Out schemas: the API's edge, one module per resource (as `server/api/` and
`tests/api/`); `common` holds what they share. Syntax and ranges only; rules live in the
domain. The Out schemas present what the services return (rows, domain objects)."""
