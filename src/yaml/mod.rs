//! YAML 1.1 as PyYAML (and so Ansible) reads it, built on saphyr-parser's event stream.
