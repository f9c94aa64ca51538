"""The daily digest, the monthly cost report and the prompt inventory: data read through the
store's report ports, pure builders, Jinja2 templates and charts."""
