//! Who is looking and where the console lives: what every page needs from the session (the frame's navigation, the
//! forms' CSRF token, the links), kept apart from `session`, which makes and checks sessions with the page helpers.

use crate::admin::Principal;

/// Where the console's pages are.
pub(super) const BASE: &str = "/console";

/// The signed-in user of a request: what the token may see, and the form token for this session's forms.
#[derive(Debug, Clone)]
pub(crate) struct Viewer {
    /// The admin token's id and scope.
    pub(crate) principal: Principal,
    /// The session's CSRF token, put in every form.
    pub(crate) csrf: String,
}
