//! Advisors that turn what the sources found into changes: index suggestions now,
//! workload-wide selection and index hygiene later.

pub mod hygiene;
pub mod index;
pub mod report;
pub mod select;
pub mod size;
pub mod statement;
pub mod values;
pub mod workload;
pub mod writes;
