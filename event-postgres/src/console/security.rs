//! Who may use the console, and which requests it believes.
//!
//! - **Credentials** come from the environment ([`Auth::from_env`]): a
//!   bearer token, a user and password for HTTP basic auth, or both. With
//!   one configured every request must carry it; with none the console
//!   only listens on a loopback address ([`check_listen`]).
//! - **CSRF**: every POST carries the token the server drew at start, in
//!   the `csrf` form field or the `X-CSRF-Token` header. A page of another
//!   site cannot read it (the console sends no CORS headers), so it cannot
//!   forge a retry even when the browser sends the operator's basic auth.
//!   A POST whose `Origin` is not the console's own, or that the browser
//!   marks `Sec-Fetch-Site: cross-site`, is refused as well.
//! - **Host**: on a loopback address the `Host` header must name a
//!   loopback host (`localhost`, `127.0.0.1`, `[::1]`, any port), so a page
//!   that rebinds its own domain to 127.0.0.1 cannot read the console (DNS
//!   rebinding).

use super::ConsoleError;
use axum::body::Body;
use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use std::net::SocketAddr;
use std::sync::Arc;
use subtle::ConstantTimeEq;

/// The environment variable holding the bearer token.
pub const TOKEN_ENV: &str = "EVENT_OPS_CONSOLE_TOKEN";
/// The environment variable holding the basic-auth user.
pub const USER_ENV: &str = "EVENT_OPS_CONSOLE_USER";
/// The environment variable holding the basic-auth password.
pub const PASSWORD_ENV: &str = "EVENT_OPS_CONSOLE_PASSWORD";

/// The credentials a request must carry; none by default.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Auth {
    bearer: Option<String>,
    basic: Option<(String, String)>,
}

impl std::fmt::Debug for Auth {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("bearer", &self.bearer.as_ref().map(|_| "<set>"))
            .field("basic", &self.basic.as_ref().map(|(u, _)| u))
            .finish()
    }
}

impl Auth {
    /// No credentials: loopback only.
    pub fn none() -> Self {
        Self::default()
    }

    /// Requests must send `Authorization: Bearer <token>` (or the basic
    /// credentials, if also set).
    pub fn bearer(mut self, token: impl Into<String>) -> Self {
        self.bearer = Some(token.into());
        self
    }

    /// Requests must send these credentials by HTTP basic auth (or the
    /// bearer token, if also set).
    pub fn basic(mut self, user: impl Into<String>, password: impl Into<String>) -> Self {
        self.basic = Some((user.into(), password.into()));
        self
    }

    /// Whether any credential is required.
    pub fn is_required(&self) -> bool {
        self.bearer.is_some() || self.basic.is_some()
    }

    /// [`TOKEN_ENV`], and [`USER_ENV`] with [`PASSWORD_ENV`], read through
    /// `var`. An empty value, or a user without a password (or the other
    /// way round), is an error naming the variable.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, ConsoleError> {
        let mut auth = Auth::none();
        let nonempty = |name: &str| -> Result<Option<String>, ConsoleError> {
            match var(name) {
                Some(v) if v.is_empty() => Err(ConsoleError::Config(format!(
                    "{name} is set but empty: give it a value or unset it"
                ))),
                other => Ok(other),
            }
        };
        if let Some(token) = nonempty(TOKEN_ENV)? {
            auth = auth.bearer(token);
        }
        match (nonempty(USER_ENV)?, nonempty(PASSWORD_ENV)?) {
            (Some(user), Some(password)) => {
                if user.contains(':') {
                    return Err(ConsoleError::Config(format!(
                        "{USER_ENV} must not contain `:` (basic auth separates user and password with it)"
                    )));
                }
                auth = auth.basic(user, password);
            }
            (None, None) => {}
            (Some(_), None) => {
                return Err(ConsoleError::Config(format!(
                    "{USER_ENV} is set without {PASSWORD_ENV}"
                )));
            }
            (None, Some(_)) => {
                return Err(ConsoleError::Config(format!(
                    "{PASSWORD_ENV} is set without {USER_ENV}"
                )));
            }
        }
        Ok(auth)
    }

    /// [`from_vars`](Self::from_vars) over the process environment.
    pub fn from_env() -> Result<Self, ConsoleError> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    fn accepts(&self, headers: &HeaderMap) -> bool {
        if !self.is_required() {
            return true;
        }
        let Some(value) = headers
            .get(header::AUTHORIZATION)
            .and_then(|v| v.to_str().ok())
        else {
            return false;
        };
        let (scheme, credentials) = value.split_once(' ').unwrap_or((value, ""));
        let credentials = credentials.trim();
        if scheme.eq_ignore_ascii_case("bearer") {
            if let Some(token) = &self.bearer {
                return equal(credentials.as_bytes(), token.as_bytes());
            }
        }
        if scheme.eq_ignore_ascii_case("basic") {
            if let Some((user, password)) = &self.basic {
                let Ok(decoded) = BASE64.decode(credentials) else {
                    return false;
                };
                let expected = format!("{user}:{password}");
                return equal(&decoded, expected.as_bytes());
            }
        }
        false
    }
}

/// Equal in time that does not depend on where the first difference is.
fn equal(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && bool::from(a.ct_eq(b))
}

/// Refuses `addr` when it is not a loopback address and `auth` requires
/// nothing: an unauthenticated console that can change production state
/// is reachable by this host's users only.
pub fn check_listen(addr: SocketAddr, auth: &Auth) -> Result<(), ConsoleError> {
    if addr.ip().is_loopback() || auth.is_required() {
        return Ok(());
    }
    Err(ConsoleError::Config(format!(
        "refusing to listen on {addr} without authentication: set {TOKEN_ENV}, or {USER_ENV} \
         and {PASSWORD_ENV}, or listen on a loopback address such as 127.0.0.1"
    )))
}

/// What the middleware checks, fixed when the console starts.
#[derive(Debug)]
pub(crate) struct Guard {
    pub(crate) auth: Auth,
    pub(crate) csrf: String,
    /// Whether the `Host` header must name a loopback host (a console on
    /// a loopback address); one on a routable address requires
    /// credentials and accepts any name it is reached by.
    pub(crate) loopback_host: bool,
}

impl Guard {
    pub(crate) fn new(addr: SocketAddr, auth: Auth) -> Result<Self, ConsoleError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| {
            ConsoleError::Config(format!("cannot draw the CSRF token from the OS: {e}"))
        })?;
        let csrf = bytes.iter().map(|b| format!("{b:02x}")).collect();
        Ok(Guard {
            auth,
            csrf,
            loopback_host: addr.ip().is_loopback(),
        })
    }

    /// Any port is accepted, so an SSH tunnel (`-L 9000:127.0.0.1:8080`)
    /// works; the name is what a rebinding page cannot fake.
    fn host_ok(&self, headers: &HeaderMap) -> bool {
        if !self.loopback_host {
            return true;
        }
        let Some(host) = headers.get(header::HOST).and_then(|h| h.to_str().ok()) else {
            return false;
        };
        let name = match host.strip_prefix('[') {
            Some(v6) => v6.split(']').next().unwrap_or(""),
            None => host.rsplit_once(':').map_or(host, |(name, _)| name),
        };
        name.eq_ignore_ascii_case("localhost")
            || name
                .parse::<std::net::IpAddr>()
                .is_ok_and(|ip| ip.is_loopback())
    }

    fn same_origin(&self, headers: &HeaderMap) -> bool {
        if headers
            .get("sec-fetch-site")
            .is_some_and(|v| v.as_bytes() == b"cross-site")
        {
            return false;
        }
        let Some(origin) = headers.get(header::ORIGIN).and_then(|v| v.to_str().ok()) else {
            return true;
        };
        let host = headers
            .get(header::HOST)
            .and_then(|h| h.to_str().ok())
            .unwrap_or("");
        let origin_host = origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .unwrap_or("");
        !host.is_empty() && origin_host.eq_ignore_ascii_case(host)
    }

    fn csrf_ok(&self, token: &str) -> bool {
        equal(token.as_bytes(), self.csrf.as_bytes())
    }
}

#[derive(serde::Deserialize)]
struct CsrfField {
    csrf: Option<String>,
}

/// The largest form a POST may send (the forms hold a token and a filter).
const FORM_LIMIT: usize = 16 * 1024;

fn refuse(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        message.to_owned(),
    )
        .into_response()
}

/// Host, credentials, then (for a POST) origin and CSRF token; security
/// headers on every answer.
pub(crate) async fn guard(
    State(guard): State<Arc<Guard>>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = check(&guard, request, next).await;
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_SECURITY_POLICY,
        HeaderValue::from_static(
            "default-src 'none'; style-src 'self'; img-src 'self'; form-action 'self'; \
             frame-ancestors 'none'; base-uri 'none'",
        ),
    );
    headers.insert(
        header::X_CONTENT_TYPE_OPTIONS,
        HeaderValue::from_static("nosniff"),
    );
    // Not `no-referrer`: under it browsers send `Origin: null` with the
    // page's own form posts, which the origin check refuses.
    headers.insert(
        header::REFERRER_POLICY,
        HeaderValue::from_static("same-origin"),
    );
    headers.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

async fn check(guard: &Guard, request: Request, next: Next) -> Response {
    if !guard.host_ok(request.headers()) {
        return refuse(
            StatusCode::MISDIRECTED_REQUEST,
            "this console answers only to its loopback address (Host header refused)",
        );
    }
    if !guard.auth.accepts(request.headers()) {
        let mut response = refuse(
            StatusCode::UNAUTHORIZED,
            "authentication required: send the console's bearer token or basic credentials",
        );
        if guard.auth.basic.is_some() {
            response.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"event-ops console\", charset=\"UTF-8\""),
            );
        }
        return response;
    }
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    if !guard.same_origin(request.headers()) {
        return refuse(
            StatusCode::FORBIDDEN,
            "cross-site request refused: actions must come from the console's own page",
        );
    }
    if let Some(token) = request.headers().get("x-csrf-token") {
        return if guard.csrf_ok(token.to_str().unwrap_or("")) {
            next.run(request).await
        } else {
            refuse(
                StatusCode::FORBIDDEN,
                "the X-CSRF-Token header is not this console's token",
            )
        };
    }
    // A form: read it, check its `csrf` field, and hand the same bytes on.
    let (parts, body) = request.into_parts();
    let bytes = match axum::body::to_bytes(body, FORM_LIMIT).await {
        Ok(bytes) => bytes,
        Err(_) => return refuse(StatusCode::PAYLOAD_TOO_LARGE, "the form is too large"),
    };
    let probe = Request::from_parts(parts.clone(), Body::from(bytes.clone()));
    let token = axum::Form::<CsrfField>::from_request(probe, &())
        .await
        .ok()
        .and_then(|f| f.0.csrf);
    match token {
        Some(token) if guard.csrf_ok(&token) => {
            next.run(Request::from_parts(parts, Body::from(bytes)))
                .await
        }
        Some(_) => refuse(
            StatusCode::FORBIDDEN,
            "the form's CSRF token is not this console's: reload the page and try again",
        ),
        None => refuse(
            StatusCode::FORBIDDEN,
            "missing CSRF token: send the `csrf` form field or the X-CSRF-Token header",
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| {
            pairs
                .iter()
                .find(|(k, _)| *k == name)
                .map(|(_, v)| (*v).to_owned())
        }
    }

    #[test]
    fn credentials_come_from_the_environment_and_half_a_pair_is_an_error() {
        assert!(!Auth::from_vars(vars(&[])).unwrap().is_required());
        assert_eq!(
            Auth::from_vars(vars(&[(TOKEN_ENV, "s3cret")])).unwrap(),
            Auth::none().bearer("s3cret")
        );
        assert_eq!(
            Auth::from_vars(vars(&[(USER_ENV, "ops"), (PASSWORD_ENV, "pw")])).unwrap(),
            Auth::none().basic("ops", "pw")
        );
        let e = Auth::from_vars(vars(&[(USER_ENV, "ops")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "EVENT_OPS_CONSOLE_USER is set without EVENT_OPS_CONSOLE_PASSWORD"
        );
        let e = Auth::from_vars(vars(&[(TOKEN_ENV, "")])).unwrap_err();
        assert_eq!(
            e.to_string(),
            "EVENT_OPS_CONSOLE_TOKEN is set but empty: give it a value or unset it"
        );
    }

    #[test]
    fn without_credentials_only_loopback_addresses_are_accepted() {
        let none = Auth::none();
        assert!(check_listen("127.0.0.1:8080".parse().unwrap(), &none).is_ok());
        assert!(check_listen("[::1]:8080".parse().unwrap(), &none).is_ok());
        let e = check_listen("0.0.0.0:8080".parse().unwrap(), &none).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("refusing to listen on 0.0.0.0:8080 without authentication"),
            "{e}"
        );
        assert!(check_listen("10.1.2.3:8080".parse().unwrap(), &none).is_err());
        let token = Auth::none().bearer("t");
        assert!(check_listen("0.0.0.0:8080".parse().unwrap(), &token).is_ok());
    }

    #[test]
    fn on_loopback_only_loopback_host_names_are_answered() {
        let guard = Guard::new("127.0.0.1:8080".parse().unwrap(), Auth::none()).unwrap();
        let host = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::HOST, value.parse().unwrap());
            h
        };
        for ok in [
            "127.0.0.1:8080",
            "localhost:9000",
            "LOCALHOST",
            "[::1]:8080",
            "127.0.0.2",
        ] {
            assert!(guard.host_ok(&host(ok)), "{ok}");
        }
        for refused in [
            "evil.example:8080",
            "127.0.0.1.evil.example",
            "10.0.0.1:8080",
            "[::2]:80",
        ] {
            assert!(!guard.host_ok(&host(refused)), "{refused}");
        }
        assert!(!guard.host_ok(&HeaderMap::new()));
        let routable =
            Guard::new("0.0.0.0:8080".parse().unwrap(), Auth::none().bearer("t")).unwrap();
        assert!(routable.host_ok(&host("console.internal:443")));
        assert_eq!(guard.csrf.len(), 64);
        assert_ne!(guard.csrf, routable.csrf);
    }

    #[test]
    fn a_request_is_accepted_with_the_configured_credential_only() {
        let auth = Auth::none().bearer("tok").basic("ops", "pw");
        let with = |value: &str| {
            let mut h = HeaderMap::new();
            h.insert(header::AUTHORIZATION, value.parse().unwrap());
            h
        };
        assert!(auth.accepts(&with("Bearer tok")));
        assert!(!auth.accepts(&with("Bearer tok2")));
        assert!(auth.accepts(&with(&format!("Basic {}", BASE64.encode("ops:pw")))));
        assert!(!auth.accepts(&with(&format!("Basic {}", BASE64.encode("ops:px")))));
        assert!(!auth.accepts(&with("Basic !!!")));
        assert!(!auth.accepts(&HeaderMap::new()));
        assert!(Auth::none().accepts(&HeaderMap::new()));
        let bearer_only = Auth::none().bearer("tok");
        assert!(!bearer_only.accepts(&with(&format!("Basic {}", BASE64.encode("ops:pw")))));
    }
}
