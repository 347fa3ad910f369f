//! The rules: pure decisions on plain data, no I/O. Which tier applies
//! (`resolve`), what decides under an override (`basis`), allow / warn /
//! block (`decide`), and what a strict reservation may hold (`reserve`).

pub mod basis;
pub mod decide;
pub mod reserve;
pub mod resolve;
