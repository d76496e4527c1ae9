"""No models. The module exists so Django sends this app post_migrate (apps.py creates the cache table then)."""
