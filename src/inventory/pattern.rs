//! Host patterns as `ansible PATTERN --list-hosts` reads them.
