//! Platform error text made safe to log, audit and store.
//!
//! A platform's error message may quote what it was sent: a create that Genstore refuses can name the
//! customer, their email, phone or address. Those messages end up in logs, audit entries and idempotency
//! records, which personal data must never reach. So platform text passes through [`platform_text`]
//! before it becomes part of any error: it keeps what helps an engineer (the words of the message that
//! belong to a fixed vocabulary of error wording, field names and error codes) and masks everything
//! else with `…`.
//!
//! Decision: this is an allow-list, not a search for personal data. A name cannot be recognised, but it
//! is not a word of the vocabulary nor shaped like a field name (`orderId`, `line_items`,
//! `IGLOBAL_ORDER_ON_HOLD`), so it is masked. Anything with a digit or an `@` is masked (phones, postal
//! codes, house numbers, emails, and also ids: the caller knows which order it was working on).

/// The longest scrubbed message kept, in characters.
pub const MAX_LEN: usize = 300;

/// Words of error wording that are kept (compared lower-cased), one a line in `vocabulary.txt`, sorted:
/// data, not code, so a word is added without touching the logic. Field-like words (`email`,
/// `address`) name a field, not a value. No common first name is on the list.
const VOCABULARY_TEXT: &str = include_str!("vocabulary.txt");

/// [`VOCABULARY_TEXT`]'s words, for binary search.
fn vocabulary() -> &'static [&'static str] {
    static WORDS: std::sync::LazyLock<Vec<&'static str>> = std::sync::LazyLock::new(|| {
        VOCABULARY_TEXT
            .lines()
            .map(str::trim)
            .filter(|w| !w.is_empty())
            .collect()
    });
    &WORDS
}

/// `s` with every word that is neither error wording nor a field name or code masked, shortened to
/// [`MAX_LEN`] characters. Never quotes a value it cannot place.
pub fn platform_text(s: &str) -> String {
    let mut out = String::new();
    let mut masked_last = false;
    for word in s.split_whitespace() {
        let is_core = |c: char| c.is_alphanumeric() || c == '_' || c == '@';
        let core_start = word.find(is_core).unwrap_or(word.len());
        let core_end = word
            .char_indices()
            .rev()
            .find(|(_, c)| is_core(*c))
            .map_or(core_start, |(i, c)| i.saturating_add(c.len_utf8()));
        let (lead, core, trail) = (
            word.get(..core_start).unwrap_or_default(),
            word.get(core_start..core_end).unwrap_or_default(),
            word.get(core_end..).unwrap_or_default(),
        );
        let keep = core.is_empty() || keepable(core);
        if keep {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(safe_punctuation(lead));
            out.push_str(core);
            out.push_str(safe_punctuation(trail));
            masked_last = false;
        } else if !masked_last {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push('…');
            masked_last = true;
        }
        if out.chars().count() >= MAX_LEN {
            break;
        }
    }
    if out.chars().count() > MAX_LEN {
        out = out.chars().take(MAX_LEN).collect();
        out.push('…');
    }
    out
}

/// A platform's error code (Google's `reason`, `domain`): kept when it is shaped like a code.
pub fn platform_code(s: &str) -> Option<String> {
    let s = s.trim();
    (!s.is_empty() && s.len() <= 64 && keepable(s)).then(|| s.to_owned())
}

/// A parser's message (serde's) with the values it quotes masked: `"…"` for every double-quoted value,
/// and a back-quoted one kept only when it is shaped like a field name (serde back-quotes field names,
/// and numbers it could not place). Where and what kind of problem stay.
pub fn parser_message(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut rest = message;
    while let Some(start) = rest.find(['"', '`']) {
        let (head, tail) = rest.split_at(start);
        out.push_str(head);
        let quote = if tail.starts_with('"') { '"' } else { '`' };
        // Both quotes are one byte.
        let after = tail.get(1..).unwrap_or_default();
        // An unterminated quote hides everything after it.
        let Some(end) = after.find(quote) else {
            out.push(quote);
            out.push('…');
            out.push(quote);
            return out;
        };
        let inner = after.get(..end).unwrap_or_default();
        out.push(quote);
        if quote == '`' && (inner.is_empty() || keepable(inner)) {
            out.push_str(inner);
        } else {
            out.push('…');
        }
        out.push(quote);
        rest = after.get(end.saturating_add(1)..).unwrap_or_default();
    }
    out.push_str(rest);
    out
}

/// Punctuation around a word stays, unless it could carry a value (quotes are dropped so a masked
/// value does not look quoted).
fn safe_punctuation(p: &str) -> &str {
    if p.chars().all(|c| {
        matches!(
            c,
            ':' | ',' | '.' | ';' | '(' | ')' | '[' | ']' | '`' | '-' | '!' | '?'
        )
    }) {
        p
    } else {
        ""
    }
}

fn keepable(word: &str) -> bool {
    if word
        .chars()
        .any(|c| c.is_ascii_digit() || c == '@' || !c.is_ascii())
    {
        return false;
    }
    // A dotted path (`lineItems.quantity`, `trackingInfo.number`): every part must be keepable.
    if word.contains('.') {
        return word.split('.').all(|p| !p.is_empty() && keepable(p));
    }
    if !word
        .chars()
        .all(|c| c.is_ascii_alphabetic() || c == '_' || c == '\'')
    {
        return false;
    }
    let lower = word.to_ascii_lowercase();
    if vocabulary().binary_search(&lower.as_str()).is_ok() {
        return true;
    }
    identifier_shaped(word)
}

/// `orderId`, `line_items`, `IGLOBAL_ORDER_ON_HOLD`: a field name or a code, not a person's word.
/// A word with one capital at the start (`Bob`) or none (`bobsen`) is not.
fn identifier_shaped(word: &str) -> bool {
    if word.contains('\'') {
        return false;
    }
    let snake = word.contains('_') && word.len() > 1;
    let first_lower = word.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    let camel = first_lower && word.chars().skip(1).any(|c| c.is_ascii_uppercase());
    snake || camel
}

#[cfg(test)]
mod tests;
