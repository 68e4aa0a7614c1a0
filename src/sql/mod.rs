//! SQL we read and SQL we write: quoting for generated statements, splitting
//! files into statements, and reading predicates out of conditions with sqlparser.

pub mod lexical;
pub mod normalized;
pub mod predicate;
pub mod quote;
pub mod statements;

pub use quote::{comment_text, quote_ident, quote_literal};
