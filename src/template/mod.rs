//! Jinja2 templates rendered with minijinja exactly as Ansible's template module renders them.
