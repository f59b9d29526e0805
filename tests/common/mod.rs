pub mod fleet;
pub mod pair;
