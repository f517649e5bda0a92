//! Files (meeting photos, scanned sign-in sheets) behind one interface, so that the server keeps
//! nothing of its own: in PostgreSQL (`stored_files`, the default) or in a directory shared by all
//! processes. See `crate::config`.
