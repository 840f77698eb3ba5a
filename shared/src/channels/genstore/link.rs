//! Genstore's `Link` pagination header: `<…?limit=50&pageToken=abc>; rel="next", <…>; rel="previous"`.
//!
//! Only the page tokens are kept: Link URLs are temporary and must never be stored; the next request is
//! built from our own base URL, `limit` and the token (no other parameter may accompany `pageToken`).

use url::Url;

/// The page tokens a `Link` header offers.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PageLinks {
    /// Token of the next page.
    pub next: Option<String>,
    /// Token of the previous page.
    pub previous: Option<String>,
}

/// Reads a `Link` header. Parts that are not well-formed links, or carry no `pageToken`, are skipped.
pub fn parse_link_header(value: &str) -> PageLinks {
    let mut links = PageLinks::default();
    for part in split_links(value) {
        let Some((target, params)) = part.split_once('>') else {
            continue;
        };
        let target = target.trim().trim_start_matches('<');
        let rel = params.split(';').find_map(|p| {
            let (k, v) = p.split_once('=')?;
            k.trim()
                .eq_ignore_ascii_case("rel")
                .then(|| v.trim().trim_matches('"').to_ascii_lowercase())
        });
        let token = Url::parse(target)
            .or_else(|_| Url::parse("http://relative.invalid/").and_then(|base| base.join(target)))
            .ok()
            .and_then(|u| {
                u.query_pairs()
                    .find(|(k, _)| k == "pageToken")
                    .map(|(_, v)| v.into_owned())
            })
            .filter(|t| !t.is_empty());
        match (rel.as_deref(), token) {
            (Some("next"), Some(t)) => links.next = Some(t),
            (Some("previous" | "prev"), Some(t)) => links.previous = Some(t),
            _ => {}
        }
    }
    links
}

/// Splits on the commas between links, not those inside a URL.
fn split_links(value: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut depth: i64 = 0;
    let mut start = 0;
    for (i, c) in value.char_indices() {
        match c {
            '<' => depth = depth.saturating_add(1),
            '>' => depth = depth.saturating_sub(1),
            ',' if depth <= 0 => {
                parts.extend(value.get(start..i));
                // A comma is one byte.
                start = i.saturating_add(1);
            }
            _ => {}
        }
    }
    parts.extend(value.get(start..));
    parts
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn next_and_previous_tokens_are_read() {
        let h = r#"<https://demo.genmystore.com/api/202412/orders?limit=50&pageToken=abc%3D%3D>; rel="next", <https://demo.genmystore.com/api/202412/orders?limit=50&pageToken=xyz>; rel="previous""#;
        let links = parse_link_header(h);
        assert_eq!(links.next.as_deref(), Some("abc=="));
        assert_eq!(links.previous.as_deref(), Some("xyz"));
    }

    #[test]
    fn commas_inside_urls_do_not_split_links() {
        let h = r#"<https://x.test/orders?fields=a,b&pageToken=t1>; rel="next""#;
        assert_eq!(parse_link_header(h).next.as_deref(), Some("t1"));
    }

    #[test]
    fn absent_or_garbled_links_give_no_tokens() {
        assert_eq!(parse_link_header(""), PageLinks::default());
        assert_eq!(parse_link_header("garbage; rel=next"), PageLinks::default());
        assert_eq!(
            parse_link_header(r#"<https://x.test/orders?limit=5>; rel="next""#),
            PageLinks::default()
        );
        let relative = parse_link_header(r#"</api/202412/orders?pageToken=r>; rel=next"#);
        assert_eq!(relative.next.as_deref(), Some("r"));
    }
}
