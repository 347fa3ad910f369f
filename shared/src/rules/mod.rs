//! The rules: pure decisions on plain data, no I/O. Which tier applies
//! (`resolve`), what decides under an override (`basis`), allow / warn /
//! block (`decide`), what a strict reservation may hold (`reserve`), and
//! which price applies to a model (`pricing`).

pub mod basis;
pub mod config_update;
pub mod decide;
pub mod groups;
pub mod pricing;
pub mod reserve;
pub mod resolve;
pub mod shadow;
pub mod simulate;
