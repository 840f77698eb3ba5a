use super::*;

#[test]
fn the_vocabulary_is_sorted_for_binary_search() {
    let mut sorted = vocabulary().to_vec();
    sorted.sort_unstable();
    sorted.dedup();
    assert_eq!(sorted, vocabulary());
}

#[test]
fn personal_values_are_masked_and_error_wording_stays() {
    let raw =
        "Invalid address for customer Bob Bobsen <bob@example.com>, phone +1 (555) 625-1199: \
               '123 Amoebobacterieae St', Ottawa K2P0V6";
    let s = platform_text(raw);
    for leak in [
        "Bob",
        "Bobsen",
        "bob@example.com",
        "555",
        "625",
        "1199",
        "Amoebobacterieae",
        "Ottawa",
        "K2P0V6",
        "123",
    ] {
        assert!(!s.contains(leak), "{leak} leaked: {s}");
    }
    assert!(s.starts_with("Invalid address for customer …"), "{s}");
}

#[test]
fn field_names_codes_and_documented_messages_survive() {
    assert_eq!(
        platform_text("Invalid security credentials"),
        "Invalid security credentials"
    );
    assert_eq!(
        platform_text("Couldn't find order for sinceOrderId: 999999"),
        "Couldn't find order for sinceOrderId: …"
    );
    assert_eq!(
        platform_text("lineItems.quantity must be greater than fulfillableQuantity"),
        "lineItems.quantity must be greater than fulfillableQuantity"
    );
    assert_eq!(
        platform_text("status IGLOBAL_ORDER_ON_HOLD blocked it"),
        "status IGLOBAL_ORDER_ON_HOLD blocked it"
    );
    assert_eq!(platform_code("notFound").as_deref(), Some("notFound"));
    assert_eq!(platform_code("Bob"), None);
    assert_eq!(platform_code("bob@example.com"), None);
}

#[test]
fn parser_messages_keep_field_names_but_not_values() {
    assert_eq!(
        parser_message(r#"invalid type: string "pat@example.com", expected u32 at line 1"#),
        r#"invalid type: string "…", expected u32 at line 1"#
    );
    assert_eq!(
        parser_message(
            "invalid value: integer `5551234`, expected a string; missing field `orderId`"
        ),
        "invalid value: integer `…`, expected a string; missing field `orderId`"
    );
    assert_eq!(
        parser_message(r#"a "b" c "unterminated d"#),
        r#"a "…" c "…""#
    );
}

#[test]
fn long_and_odd_text_is_bounded() {
    let long = "invalid ".repeat(500);
    assert!(platform_text(&long).chars().count() <= MAX_LEN + 1);
    assert_eq!(platform_text("Tham số orderId là bắt buộc"), "… orderId …");
    assert_eq!(platform_text(""), "");
    assert_eq!(platform_text("\"quoted\" 'x'"), "…");
}
