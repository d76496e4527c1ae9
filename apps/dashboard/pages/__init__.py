"""Dashboard pages, one module per page: its columns, filters, tables and view."""
