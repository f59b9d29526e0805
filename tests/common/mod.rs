pub mod agent;
pub mod fleet;
pub mod local;
pub mod pair;
