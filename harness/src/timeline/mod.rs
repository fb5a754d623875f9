//! Timelines of a run: a text form for terminals and snapshot tests, and a self-contained HTML
//! sequence diagram a person can open after a failure.

mod html;
mod text;

pub use html::html;
pub use text::text;
