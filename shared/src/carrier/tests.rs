use super::*;

#[test]
fn genstore_names_map_to_one_carrier() {
    let cases = [
        ("UPS", Carrier::Ups),
        ("United Parcel Service", Carrier::Ups),
        ("USPS", Carrier::Usps),
        ("FedEx", Carrier::Fedex),
        ("Federal Express", Carrier::Fedex),
        ("DHL Express", Carrier::DhlExpress),
        ("DHL eCommerce", Carrier::Dhl),
        ("Canada Post", Carrier::CanadaPost),
        ("Postes Canada", Carrier::CanadaPost),
        ("La Poste", Carrier::LaPoste),
        ("Colissimo", Carrier::Colissimo),
    ];
    for (name, want) in cases {
        assert_eq!(Carrier::from_genstore_company(name), Some(want), "{name}");
    }
}

#[test]
fn every_google_code_in_the_reference_reads_back_to_itself() {
    let schema: serde_json::Value = serde_json::from_str(include_str!(
        "../../tests/fixtures/google/reference-v2.1.json"
    ))
    .unwrap();
    let carrier = &schema["schemas"]["OrderShipment"]["properties"]["carrier"];
    let mut codes = Vec::new();
    for list in ["x-supportedCarriersUS", "x-supportedCarriersFR"] {
        for code in carrier[list].as_array().unwrap() {
            codes.push(code.as_str().unwrap().to_owned());
        }
    }
    assert!(codes.len() > 40);
    for code in codes {
        let c = Carrier::from_google_code(&code).unwrap();
        assert!(!matches!(c, Carrier::Other(_)), "{code} is a known carrier");
        assert_eq!(c.google_code(), code, "{code} maps to {c:?}");
    }
}

#[test]
fn zonos_service_levels_map_by_prefix() {
    let cases = [
        ("UPS_EXPEDITED", Carrier::Ups),
        ("UPS_WORLDWIDE_SAVER", Carrier::Ups),
        ("USPS_PRIORITY_MAIL_INTERNATIONAL", Carrier::Usps),
        ("FEDEX_INTERNATIONAL_PRIORITY", Carrier::Fedex),
        ("DHL_EXPRESS", Carrier::DhlExpress),
        ("DHL_EXPRESS_WORLDWIDE", Carrier::DhlExpress),
        ("DHL_ECOMMERCE", Carrier::Dhl),
        ("CANADA_POST_EXPEDITED", Carrier::CanadaPost),
    ];
    for (code, want) in cases {
        assert_eq!(
            Carrier::from_zonos_service_level(code),
            Some(want),
            "{code}"
        );
    }
    assert_eq!(
        Carrier::from_zonos_service_level("UPSX_FAST"),
        Some(Carrier::Other("UPSX_FAST".into()))
    );
    assert_eq!(Carrier::from_zonos_service_level("  "), None);
}

#[test]
fn carriers_cross_platforms() {
    let c = Carrier::from_zonos_service_level("FEDEX_GROUND").unwrap();
    assert_eq!(c.google_code(), "fedex");
    assert_eq!(c.genstore_company(), "FedEx");
    let c = Carrier::from_genstore_company("Canada Post").unwrap();
    assert_eq!(c.google_code(), "canada post");
}

#[test]
fn unknown_carriers_pass_through_unchanged() {
    let c = Carrier::from_name("  Bob's Couriers ").unwrap();
    assert_eq!(c, Carrier::Other("Bob's Couriers".into()));
    assert_eq!(c.google_code(), "Bob's Couriers");
    assert_eq!(c.genstore_company(), "Bob's Couriers");
    assert_eq!(c.tracking_url("123"), None);
    assert_eq!(Carrier::from_name(""), None);
}

#[test]
fn tracking_urls_for_the_major_carriers() {
    let n = "1Z 999";
    for (c, host) in [
        (Carrier::Ups, "ups.com"),
        (Carrier::Usps, "usps.com"),
        (Carrier::Fedex, "fedex.com"),
        (Carrier::Dhl, "dhl.com"),
        (Carrier::DhlExpress, "dhl.com"),
        (Carrier::CanadaPost, "canadapost-postescanada.ca"),
        (Carrier::LaPoste, "laposte.fr"),
        (Carrier::Colissimo, "laposte.fr"),
    ] {
        let url = c.tracking_url(n).unwrap();
        assert!(url.starts_with("https://"), "{url}");
        assert!(url.contains(host), "{url}");
        assert!(url.ends_with("1Z%20999"), "number is encoded: {url}");
    }
}

#[test]
fn carrier_serialises_as_its_name() {
    let c: Carrier = serde_json::from_str("\"fedex\"").unwrap();
    assert_eq!(c, Carrier::Fedex);
    assert_eq!(serde_json::to_string(&c).unwrap(), "\"FedEx\"");
    assert!(serde_json::from_str::<Carrier>("\"\"").is_err());
}
