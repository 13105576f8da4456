//! Team mode (docs/team-mode.md): following a run from another process.

mod follow;
