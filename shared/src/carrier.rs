//! One carrier type for all platforms: Genstore company names, Google carrier codes and Zonos
//! `shippingCarrierServiceLevel` codes map to it, and it maps back to each platform's spelling.
//!
//! A carrier orderbridge does not know passes through unchanged (`Carrier::Other` keeps the text as it
//! came), gets no tracking URL, and is sent to Google as-is (Google accepts unlisted carriers).

use percent_encoding::{utf8_percent_encode, NON_ALPHANUMERIC};
use serde::{Deserialize, Serialize};
use std::fmt;

/// A shipping carrier.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub enum Carrier {
    /// United Parcel Service.
    Ups,
    /// United States Postal Service.
    Usps,
    /// FedEx.
    Fedex,
    /// DHL (parcel / eCommerce).
    Dhl,
    /// DHL Express.
    DhlExpress,
    /// OnTrac.
    Ontrac,
    /// Canada Post / Postes Canada.
    CanadaPost,
    /// Purolator.
    Purolator,
    /// La Poste.
    LaPoste,
    /// Colissimo (La Poste's parcel service).
    Colissimo,
    /// Chronopost.
    Chronopost,
    /// GLS.
    Gls,
    /// DPD.
    Dpd,
    /// PostNL.
    PostNl,
    /// China Post.
    ChinaPost,
    /// TNT.
    Tnt,
    /// Aramex.
    Aramex,
    /// BEST Express.
    Bestex,
    /// Blue Dart.
    BlueDart,
    /// Boxtal.
    Boxtal,
    /// bpost.
    Bpost,
    /// Canpar.
    Canpar,
    /// CDL Last Mile.
    CdlLastMile,
    /// China EMS.
    ChinaEms,
    /// Chukou1.
    Chukou1,
    /// Colis Privé.
    ColisPrive,
    /// DB Schenker.
    DbSchenker,
    /// Delhivery.
    Delhivery,
    /// Deliv.
    Deliv,
    /// Deliver-It.
    DeliverIt,
    /// DTDC.
    Dtdc,
    /// Dynamex.
    Dynamex,
    /// EFW.
    Efw,
    /// EUB.
    Eub,
    /// Geodis.
    Geodis,
    /// India Post.
    IndiaPost,
    /// JD Logistics.
    JdLogistics,
    /// LaserShip.
    Lasership,
    /// LSO.
    Lso,
    /// MPX.
    Mpx,
    /// Pos Malaysia.
    PosMalaysia,
    /// PTT.
    Ptt,
    /// Singapore Post.
    SingaporePost,
    /// TPC India.
    TpcIndia,
    /// TWW.
    Tww,
    /// UDS.
    Uds,
    /// YunExpress.
    Yunexpress,
    /// A carrier orderbridge does not know, kept exactly as the platform wrote it.
    Other(String),
}

/// Each known carrier with its Genstore display name, its Google code and the names it is known by
/// (compared after lower-casing and dropping everything but letters and digits).
const TABLE: &[(Carrier, &str, &str, &[&str])] = &[
    (
        Carrier::Ups,
        "UPS",
        "ups",
        &["ups", "unitedparcelservice", "upsmailinnovations"],
    ),
    (
        Carrier::Usps,
        "USPS",
        "usps",
        &["usps", "unitedstatespostalservice", "uspostalservice"],
    ),
    (
        Carrier::Fedex,
        "FedEx",
        "fedex",
        &["fedex", "federalexpress", "fedexground", "fedexexpress"],
    ),
    (
        Carrier::Dhl,
        "DHL",
        "dhl",
        &["dhl", "dhlecommerce", "dhlparcel", "dhlglobalmail"],
    ),
    (
        Carrier::DhlExpress,
        "DHL Express",
        "dhl express",
        &["dhlexpress"],
    ),
    (Carrier::Ontrac, "OnTrac", "ontrac", &["ontrac"]),
    (
        Carrier::CanadaPost,
        "Canada Post",
        "canada post",
        &["canadapost", "postescanada", "canadapostpostescanada"],
    ),
    (Carrier::Purolator, "Purolator", "purolator", &["purolator"]),
    (Carrier::LaPoste, "La Poste", "la poste", &["laposte"]),
    (
        Carrier::Colissimo,
        "Colissimo",
        "colissimo",
        &["colissimo", "lapostecolissimo"],
    ),
    (
        Carrier::Chronopost,
        "Chronopost",
        "chronopost",
        &["chronopost"],
    ),
    (Carrier::Gls, "GLS", "gls", &["gls"]),
    (Carrier::Dpd, "DPD", "dpd", &["dpd"]),
    (Carrier::PostNl, "PostNL", "postnl", &["postnl"]),
    (
        Carrier::ChinaPost,
        "China Post",
        "china post",
        &["chinapost"],
    ),
    (Carrier::Tnt, "TNT", "tnt", &["tnt"]),
    (Carrier::Aramex, "Aramex", "aramex", &["aramex"]),
    (
        Carrier::Bestex,
        "BEST Express",
        "bestex",
        &["bestex", "bestexpress"],
    ),
    (Carrier::BlueDart, "Blue Dart", "blue dart", &["bluedart"]),
    (Carrier::Boxtal, "Boxtal", "boxtal", &["boxtal"]),
    (Carrier::Bpost, "bpost", "bpost", &["bpost", "belgianpost"]),
    (Carrier::Canpar, "Canpar", "canpar", &["canpar"]),
    (
        Carrier::CdlLastMile,
        "CDL Last Mile",
        "cdl last mile",
        &["cdllastmile", "cdl"],
    ),
    (
        Carrier::ChinaEms,
        "China EMS",
        "china ems",
        &["chinaems", "ems"],
    ),
    (Carrier::Chukou1, "Chukou1", "chukou1", &["chukou1"]),
    (
        Carrier::ColisPrive,
        "Colis Privé",
        "colis prive",
        &["colisprive", "colispriv"],
    ),
    (
        Carrier::DbSchenker,
        "DB Schenker",
        "db schenker",
        &["dbschenker", "schenker"],
    ),
    (Carrier::Delhivery, "Delhivery", "delhivery", &["delhivery"]),
    (Carrier::Deliv, "Deliv", "deliv", &["deliv"]),
    (
        Carrier::DeliverIt,
        "Deliver-It",
        "deliver-it",
        &["deliverit"],
    ),
    (Carrier::Dtdc, "DTDC", "dtdc", &["dtdc"]),
    (Carrier::Dynamex, "Dynamex", "dynamex", &["dynamex"]),
    (Carrier::Efw, "EFW", "efw", &["efw"]),
    (Carrier::Eub, "EUB", "eub", &["eub", "epacket"]),
    (Carrier::Geodis, "Geodis", "geodis", &["geodis"]),
    (
        Carrier::IndiaPost,
        "India Post",
        "india post",
        &["indiapost"],
    ),
    (
        Carrier::JdLogistics,
        "JD Logistics",
        "jd logistics",
        &["jdlogistics"],
    ),
    (Carrier::Lasership, "LaserShip", "lasership", &["lasership"]),
    (Carrier::Lso, "LSO", "lso", &["lso", "lonestarovernight"]),
    (Carrier::Mpx, "MPX", "mpx", &["mpx"]),
    (
        Carrier::PosMalaysia,
        "Pos Malaysia",
        "pos malaysia",
        &["posmalaysia"],
    ),
    (Carrier::Ptt, "PTT", "ptt", &["ptt"]),
    (
        Carrier::SingaporePost,
        "Singapore Post",
        "singapore post",
        &["singaporepost", "singpost"],
    ),
    (Carrier::TpcIndia, "TPC India", "tpc india", &["tpcindia"]),
    (Carrier::Tww, "TWW", "tww", &["tww"]),
    (Carrier::Uds, "UDS", "uds", &["uds"]),
    (
        Carrier::Yunexpress,
        "YunExpress",
        "yunexpress",
        &["yunexpress"],
    ),
];

/// Zonos service-level prefixes (`UPS_EXPEDITED`, `DHL_EXPRESS_WORLDWIDE`, …), longest first so that
/// `DHL_EXPRESS_*` is DHL Express and `DHL_*` plain DHL.
const ZONOS_PREFIXES: &[(&str, Carrier)] = &[
    ("DHL_EXPRESS", Carrier::DhlExpress),
    ("CANADA_POST", Carrier::CanadaPost),
    ("CANADAPOST", Carrier::CanadaPost),
    ("LA_POSTE", Carrier::LaPoste),
    ("COLISSIMO", Carrier::Colissimo),
    ("CHRONOPOST", Carrier::Chronopost),
    ("PUROLATOR", Carrier::Purolator),
    ("ONTRAC", Carrier::Ontrac),
    ("FEDEX", Carrier::Fedex),
    ("ARAMEX", Carrier::Aramex),
    ("POSTNL", Carrier::PostNl),
    ("USPS", Carrier::Usps),
    ("UPS", Carrier::Ups),
    ("DHL", Carrier::Dhl),
    ("GLS", Carrier::Gls),
    ("DPD", Carrier::Dpd),
    ("TNT", Carrier::Tnt),
];

fn squash(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_lowercase())
        .collect()
}

impl Carrier {
    /// Reads a carrier name as any platform or person writes it: `UPS`, `United Parcel Service`,
    /// `fedex`, `Canada Post`, `la poste`, …. Blank text is no carrier; unknown text is `Other`.
    pub fn from_name(name: &str) -> Option<Carrier> {
        let trimmed = name.trim();
        if trimmed.is_empty() {
            return None;
        }
        let key = squash(trimmed);
        Some(
            TABLE
                .iter()
                .find(|(_, _, _, aliases)| aliases.contains(&key.as_str()))
                .map(|(c, ..)| c.clone())
                .unwrap_or_else(|| Carrier::Other(trimmed.to_owned())),
        )
    }

    /// Reads a Genstore fulfillment's `trackingInfo.company`.
    pub fn from_genstore_company(company: &str) -> Option<Carrier> {
        Self::from_name(company)
    }

    /// Reads a Google `shipments[].carrier` code (`ups`, `dhl express`, `la poste`, …).
    pub fn from_google_code(code: &str) -> Option<Carrier> {
        Self::from_name(code)
    }

    /// Reads a Zonos `shippingCarrierServiceLevel` (`UPS_EXPEDITED`, `FEDEX_INTERNATIONAL_PRIORITY`);
    /// an unknown code is kept whole as `Other`.
    pub fn from_zonos_service_level(level: &str) -> Option<Carrier> {
        let trimmed = level.trim();
        if trimmed.is_empty() {
            return None;
        }
        let upper = trimmed.to_ascii_uppercase();
        let known = ZONOS_PREFIXES.iter().find(|(prefix, _)| {
            upper == *prefix
                || upper
                    .strip_prefix(prefix)
                    .is_some_and(|rest| rest.starts_with('_'))
        });
        Some(match known {
            Some((_, c)) => c.clone(),
            None => Carrier::Other(trimmed.to_owned()),
        })
    }

    fn entry(
        &self,
    ) -> Option<&'static (Carrier, &'static str, &'static str, &'static [&'static str])> {
        TABLE.iter().find(|(c, ..)| c == self)
    }

    /// The company name Genstore shows (`FedEx`, `Canada Post`); `Other` as it came.
    pub fn genstore_company(&self) -> &str {
        match self {
            Carrier::Other(name) => name,
            known => known.entry().map(|e| e.1).unwrap_or_default(),
        }
    }

    /// The carrier code Google expects (`fedex`, `canada post`); `Other` as it came.
    pub fn google_code(&self) -> &str {
        match self {
            Carrier::Other(name) => name,
            known => known.entry().map(|e| e.2).unwrap_or_default(),
        }
    }

    /// The public tracking page for a tracking number, for the carriers that have one orderbridge knows.
    pub fn tracking_url(&self, tracking_number: &str) -> Option<String> {
        let n = utf8_percent_encode(tracking_number.trim(), NON_ALPHANUMERIC);
        let url = match self {
            Carrier::Ups => format!("https://www.ups.com/track?tracknum={n}"),
            Carrier::Usps => format!("https://tools.usps.com/go/TrackConfirmAction?tLabels={n}"),
            Carrier::Fedex => format!("https://www.fedex.com/fedextrack/?trknbr={n}"),
            Carrier::Dhl | Carrier::DhlExpress => format!(
                "https://www.dhl.com/global-en/home/tracking/tracking-express.html?submit=1&tracking-id={n}"
            ),
            Carrier::CanadaPost => format!(
                "https://www.canadapost-postescanada.ca/track-reperage/en#/search?searchFor={n}"
            ),
            Carrier::LaPoste | Carrier::Colissimo => {
                format!("https://www.laposte.fr/outils/suivre-vos-envois?code={n}")
            }
            Carrier::Chronopost => {
                format!("https://www.chronopost.fr/tracking-no-cms/suivi-page?listeNumerosLT={n}")
            }
            Carrier::Purolator => {
                format!("https://www.purolator.com/en/shipping/tracker?pin={n}")
            }
            _ => return None,
        };
        Some(url)
    }
}

impl fmt::Display for Carrier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.genstore_company())
    }
}

/// Blank text is not a carrier.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a carrier name may not be blank")]
pub struct BlankCarrier;

impl TryFrom<String> for Carrier {
    type Error = BlankCarrier;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        Carrier::from_name(&s).ok_or(BlankCarrier)
    }
}

impl From<Carrier> for String {
    fn from(c: Carrier) -> Self {
        c.genstore_company().to_owned()
    }
}

#[cfg(test)]
mod tests;
