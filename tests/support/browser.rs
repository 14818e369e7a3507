//! A small browser over reqwest for the OAuth journeys: it follows redirects itself, keeping a cookie jar per
//! host:port like a browser does (cookies go only back to the origin that set them, and on the path they name), and
//! submits HTML forms with their hidden fields and the button clicked. The authorization header of the first request
//! is never sent on to another origin.

use reqwest::{Method, StatusCode, Url};
use std::collections::BTreeMap;

/// Redirects followed before giving up (browsers stop at about 20).
const MAX_REDIRECTS: usize = 10;

/// A cookie as set: value and path.
#[derive(Debug, Clone)]
struct Cookie {
    value: String,
    path: String,
}

/// A page the browser ended on.
#[derive(Debug)]
pub struct Page {
    /// Its address.
    pub url: Url,
    /// Its status.
    pub status: StatusCode,
    /// Its body.
    pub body: String,
    /// Every address visited to get here, the first request's included.
    pub visited: Vec<Url>,
}

/// A browser with its own cookies.
pub struct Browser {
    http: reqwest::Client,
    /// `host:port` → cookie name → cookie.
    jar: BTreeMap<String, BTreeMap<String, Cookie>>,
}

impl Default for Browser {
    fn default() -> Self {
        Self::new()
    }
}

impl Browser {
    /// A browser with no cookies.
    ///
    /// # Panics
    /// The HTTP client cannot be built.
    pub fn new() -> Self {
        Self {
            http: reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .build()
                .expect("build the http client"),
            jar: BTreeMap::new(),
        }
    }

    /// Opens `url` (with `bearer` as the `Authorization` of this first request only) and follows redirects.
    ///
    /// # Panics
    /// A request fails or a redirect has no usable `Location`.
    pub async fn open(&mut self, url: &str, bearer: Option<&str>) -> Page {
        let url = Url::parse(url).expect("a URL");
        self.go(Method::GET, url, None, bearer).await
    }

    /// Submits the form of `page` whose submit button's text contains `button`, with its hidden fields changed by
    /// `change`, and follows redirects.
    ///
    /// # Panics
    /// No such form on the page, or a request fails.
    pub async fn submit(
        &mut self,
        page: &Page,
        button: &str,
        change: impl FnOnce(&mut Vec<(String, String)>),
    ) -> Page {
        let form = Form::find(&page.body, button)
            .unwrap_or_else(|| panic!("no form with a {button:?} button on {}", page.url));
        let mut fields = form.fields;
        change(&mut fields);
        let action = page.url.join(&form.action).expect("a form action");
        let body = serde_urlencoded::to_string(&fields).expect("encode the form");
        self.go(Method::POST, action, Some(body), None).await
    }

    async fn go(
        &mut self,
        method: Method,
        url: Url,
        form: Option<String>,
        bearer: Option<&str>,
    ) -> Page {
        let (mut method, mut url, mut form) = (method, url, form);
        let first = url.clone();
        let mut visited = Vec::new();
        for _ in 0..MAX_REDIRECTS {
            visited.push(url.clone());
            let mut req = self.http.request(method.clone(), url.clone());
            if let Some(cookies) = self.cookies_for(&url) {
                req = req.header(reqwest::header::COOKIE, cookies);
            }
            if let (Some(token), true) = (bearer, same_origin(&url, &first)) {
                req = req.bearer_auth(token);
            }
            if let Some(body) = form.take() {
                req = req
                    .header(
                        reqwest::header::CONTENT_TYPE,
                        "application/x-www-form-urlencoded",
                    )
                    .body(body);
            }
            let response = req.send().await.expect("send the request");
            self.keep_cookies(&url, &response);
            let status = response.status();
            if status.is_redirection()
                && let Some(location) = response.headers().get(reqwest::header::LOCATION)
            {
                url = url
                    .join(location.to_str().expect("a Location"))
                    .expect("a Location");
                // 303 (and 301/302 after a POST, as browsers do) continues with a GET.
                method = Method::GET;
                continue;
            }
            let body = response.text().await.unwrap_or_default();
            return Page {
                url,
                status,
                body,
                visited,
            };
        }
        panic!("more than {MAX_REDIRECTS} redirects from {first}");
    }

    fn cookies_for(&self, url: &Url) -> Option<String> {
        let jar = self.jar.get(&origin(url))?;
        let pairs: Vec<String> = jar
            .iter()
            .filter(|(_, c)| url.path().starts_with(&c.path))
            .map(|(name, c)| format!("{name}={}", c.value))
            .collect();
        (!pairs.is_empty()).then(|| pairs.join("; "))
    }

    fn keep_cookies(&mut self, url: &Url, response: &reqwest::Response) {
        for value in response.headers().get_all(reqwest::header::SET_COOKIE) {
            let Ok(text) = value.to_str() else { continue };
            let mut parts = text.split(';').map(str::trim);
            let Some((name, value)) = parts.next().and_then(|p| p.split_once('=')) else {
                continue;
            };
            let path = parts
                .filter_map(|p| p.split_once('='))
                .find(|(k, _)| k.eq_ignore_ascii_case("path"))
                .map_or_else(|| "/".to_owned(), |(_, v)| v.to_owned());
            self.jar.entry(origin(url)).or_default().insert(
                name.to_owned(),
                Cookie {
                    value: value.to_owned(),
                    path,
                },
            );
        }
    }
}

fn origin(url: &Url) -> String {
    format!(
        "{}:{}",
        url.host_str().unwrap_or_default(),
        url.port_or_known_default().unwrap_or_default()
    )
}

fn same_origin(a: &Url, b: &Url) -> bool {
    origin(a) == origin(b) && a.scheme() == b.scheme()
}

/// An HTML form: where it posts and what it sends when one button is clicked.
struct Form {
    action: String,
    fields: Vec<(String, String)>,
}

impl Form {
    /// The form whose button text contains `button`, with its inputs and that button's `name=value`.
    fn find(html: &str, button: &str) -> Option<Self> {
        let form = html
            .split("<form")
            .skip(1)
            .map(|f| f.split("</form>").next().unwrap_or(f))
            .find(|f| {
                f.split("<button")
                    .skip(1)
                    .any(|b| b.split("</button>").next().unwrap_or("").contains(button))
            })?;
        let action = attr(form.split('>').next().unwrap_or(""), "action").unwrap_or_default();
        let mut fields: Vec<(String, String)> = form
            .split("<input")
            .skip(1)
            .filter_map(|i| {
                let tag = i.split('>').next().unwrap_or("");
                Some((attr(tag, "name")?, attr(tag, "value").unwrap_or_default()))
            })
            .collect();
        let clicked = form
            .split("<button")
            .skip(1)
            .find(|b| b.split("</button>").next().unwrap_or("").contains(button))?;
        let tag = clicked.split('>').next().unwrap_or("");
        if let (Some(name), Some(value)) = (attr(tag, "name"), attr(tag, "value")) {
            fields.push((name, value));
        }
        Some(Self { action, fields })
    }
}

/// The value of `name="…"` in a tag, unescaped.
fn attr(tag: &str, name: &str) -> Option<String> {
    let at = tag.find(&format!("{name}=\""))? + name.len() + 2;
    let value = tag[at..].split('"').next()?;
    Some(
        value
            .replace("&quot;", "\"")
            .replace("&lt;", "<")
            .replace("&gt;", ">")
            .replace("&amp;", "&"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_form_is_found_by_its_button_with_hidden_fields_and_the_clicked_button() {
        let html = r#"<form method="post" action="/a"><input type="hidden" name="x" value="1&amp;2"><button type="submit" name="decision" value="allow">Allow as Ann</button></form><form action="/b"><button name="decision" value="deny">Deny</button></form>"#;
        let f = Form::find(html, "Allow").unwrap();
        assert_eq!(f.action, "/a");
        assert_eq!(
            f.fields,
            vec![
                ("x".to_owned(), "1&2".to_owned()),
                ("decision".to_owned(), "allow".to_owned())
            ]
        );
        assert_eq!(Form::find(html, "Deny").unwrap().action, "/b");
        assert!(Form::find(html, "Nope").is_none());
    }
}
