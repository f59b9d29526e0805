pub mod agent;
pub mod corpus;
pub mod fleet;
pub mod local;
pub mod pair;
