//! A handler's answer before it becomes an HTTP response, and the standard errors.

use bytes::Bytes;

use crate::xml;

/// Content type of XML answers.
pub(crate) const XML: &str = "text/xml;charset=UTF-8";
/// Content type of HTML pages.
pub(crate) const HTML: &str = "text/html; charset=iso-8859-1";

/// A response: status, body, the Qualys CODE it carries and whether the model changed.
#[derive(Debug, Clone)]
pub(crate) struct Reply {
    /// HTTP status.
    pub status: u16,
    /// Content-Type.
    pub content_type: &'static str,
    /// Body.
    pub body: Bytes,
    /// Qualys CODE in the body.
    pub code: Option<u32>,
    /// The request changed the model.
    pub applied: bool,
    /// Extra headers.
    pub headers: Vec<(&'static str, String)>,
}

impl Reply {
    /// An XML body.
    pub fn xml(status: u16, body: String, code: Option<u32>) -> Reply {
        Reply {
            status,
            content_type: XML,
            body: Bytes::from(body),
            code,
            applied: false,
            headers: Vec::new(),
        }
    }

    /// Any body.
    pub fn raw(status: u16, content_type: &'static str, body: Bytes) -> Reply {
        Reply {
            status,
            content_type,
            body,
            code: None,
            applied: false,
            headers: Vec::new(),
        }
    }

    /// A SIMPLE_RETURN success (HTTP 200, no CODE).
    pub fn ok(text: &str, items: &[(&str, String)]) -> Reply {
        Reply::xml(200, xml::simple_return(None, text, items), None)
    }

    /// A SIMPLE_RETURN error with this status and CODE.
    pub fn error(status: u16, code: u32, text: &str) -> Reply {
        Reply::xml(
            status,
            xml::simple_return(Some(code), text, &[]),
            Some(code),
        )
    }

    /// HTTP 400 / 1903 `Missing required parameter(s): NAMES`.
    pub fn missing(names: &str) -> Reply {
        Reply::error(
            400,
            1903,
            &format!("Missing required parameter(s): {names}"),
        )
    }

    /// HTTP 400 / 1905 `parameter NAME has invalid value: VALUE (WHY)`.
    pub fn invalid(name: &str, value: &str, why: &str) -> Reply {
        Reply::error(
            400,
            1905,
            &format!("parameter {name} has invalid value: {value} ({why})"),
        )
    }

    /// Marks the model as changed.
    pub fn applied(mut self) -> Reply {
        self.applied = true;
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: &'static str, value: String) -> Reply {
        self.headers.push((name, value));
        self
    }

    /// HTTP 401 / 2000 `Bad Login/Password`.
    pub fn bad_login() -> Reply {
        Reply::error(401, 2000, "Bad Login/Password")
    }

    /// HTTP 301 to `location`, with an Apache-style HTML page.
    pub fn moved(location: &str) -> Reply {
        let loc = xml::escape(location);
        let body = format!(
            "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>301 Moved Permanently</title>\n</head><body>\n<h1>Moved Permanently</h1>\n<p>The document has moved <a href=\"{loc}\">here</a>.</p>\n</body></html>\n"
        );
        Reply::raw(301, HTML, Bytes::from(body)).header("Location", location.to_owned())
    }

    /// HTTP 503 maintenance page.
    pub fn maintenance() -> Reply {
        let body = "<!DOCTYPE html>\n<html><head><title>Service Unavailable</title></head>\n<body><h1>Service Unavailable</h1>\n<p>The Qualys platform is undergoing scheduled maintenance. Please try again later.</p>\n</body></html>\n";
        Reply::raw(
            503,
            "text/html; charset=UTF-8",
            Bytes::from_static(body.as_bytes()),
        )
        .header("Retry-After", "60".to_owned())
    }

    /// HTTP 500 (or other 5xx) HTML error page.
    pub fn server_error(status: u16) -> Reply {
        let body = format!(
            "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>{status} Internal Server Error</title>\n</head><body>\n<h1>Internal Server Error</h1>\n<p>The server encountered an internal error and was unable to complete your request.</p>\n</body></html>\n"
        );
        Reply::raw(status, HTML, Bytes::from(body))
    }

    /// HTTP 404 page for an unknown path.
    pub fn not_found(path: &str) -> Reply {
        let body = format!(
            "<!DOCTYPE HTML PUBLIC \"-//IETF//DTD HTML 2.0//EN\">\n<html><head>\n<title>404 Not Found</title>\n</head><body>\n<h1>Not Found</h1>\n<p>The requested URL {} was not found on this server.</p>\n</body></html>\n",
            xml::escape(path)
        );
        Reply::raw(404, HTML, Bytes::from(body))
    }

    /// GENERIC_RETURN CODE 999 (HTTP 500), followed by an incident-signature comment.
    pub fn internal_error(api_name: &str, user: &str, incident: u64) -> Reply {
        let mut body = xml::generic_return(
            api_name,
            user,
            "FAILED",
            Some(999),
            "Internal error. Please contact customer support.",
        );
        body.push_str(&format!("<!-- Incident signature: {incident:016x} //-->\n"));
        Reply::xml(500, body, Some(999))
    }
}
