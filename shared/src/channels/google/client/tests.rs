use super::*;

#[test]
fn operation_ids_are_deterministic_and_distinct() {
    let a = operation_id("G-1", "ship", "shipment-1");
    assert_eq!(a, operation_id("G-1", "ship", "shipment-1"));
    assert_ne!(a, operation_id("G-1", "ship", "shipment-2"));
    assert_ne!(a, operation_id("G-2", "ship", "shipment-1"));
    assert_ne!(
        operation_id("G-1", "a", "bc"),
        operation_id("G-1", "ab", "c")
    );
    assert!(
        a.starts_with("ob-ship-") && a.len() == "ob-ship-".len() + 20,
        "{a}"
    );
}
