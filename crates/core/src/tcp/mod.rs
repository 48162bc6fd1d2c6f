//! TCP per RFC 9293. One file per mechanism; see DESIGN.md for the map.

pub mod state;
