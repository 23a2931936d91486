//! The credential format and its derivation (SPEC §2): vendor master key, instance key, `ak_` keys
//! with their checksum, `sk_` secrets and the stored hash. Pure functions; the only thing touched
//! outside memory is the CSPRNG.
//!
//! Every secret type wipes itself on drop and prints nothing in `Debug`, so a secret cannot end up
//! in a log line or a panic message by accident.

use std::fmt;

use hmac::{Hmac, Mac};
use rand::{RngCore, TryRngCore};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;
use zeroize::Zeroizing;

type HmacSha256 = Hmac<Sha256>;

/// Domain-separation label of the instance-key derivation.
pub const INSTANCE_CONTEXT: &[u8] = b"entrytarget.instance.v1";
/// Domain-separation label of the secret derivation.
pub const CREDENTIAL_CONTEXT: &[u8] = b"entrytarget.credential.v1";

/// Length of an `api_key`: `ak_` + 32 hex digits of randomness + 8 hex digits of checksum.
pub const API_KEY_LEN: usize = 43;
/// Length of an `api_secret`: `sk_` + 64 hex digits.
pub const API_SECRET_LEN: usize = 67;
/// Longest instance id.
pub const INSTANCE_ID_MAX: usize = 64;

/// What is wrong with a piece of key material given as hex (master key, instance key, hash).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyMaterialError {
    #[error("the {what} must be 64 hexadecimal characters (32 bytes), but it has {len}")]
    WrongLength { what: &'static str, len: usize },
    #[error("the {what} must be hexadecimal (0-9, a-f); the character at position {position} is not")]
    NotHex { what: &'static str, position: usize },
}

fn parse_hex32(what: &'static str, text: &str) -> Result<Zeroizing<[u8; 32]>, KeyMaterialError> {
    let text = text.trim();
    if text.len() != 64 {
        return Err(KeyMaterialError::WrongLength { what, len: text.chars().count() });
    }
    if let Some(position) = text.bytes().position(|b| !b.is_ascii_hexdigit()) {
        return Err(KeyMaterialError::NotHex { what, position: position + 1 });
    }
    let mut out = Zeroizing::new([0u8; 32]);
    hex::decode_to_slice(text, out.as_mut()).map_err(|_| KeyMaterialError::NotHex { what, position: 1 })?;
    Ok(out)
}

fn hmac_sha256(key: &[u8], context: &[u8], message: &[u8]) -> Zeroizing<[u8; 32]> {
    let mut mac = HmacSha256::new_from_slice(key).expect("HMAC accepts keys of any length");
    mac.update(context);
    mac.update(&[0]);
    mac.update(message);
    Zeroizing::new(mac.finalize().into_bytes().into())
}

/// The vendor master key: 32 bytes from the OS CSPRNG, held by the vendor only.
pub struct MasterKey(Zeroizing<[u8; 32]>);

impl MasterKey {
    /// A fresh key from the operating system's CSPRNG.
    pub fn generate() -> Self {
        let mut bytes = Zeroizing::new([0u8; 32]);
        rand::rngs::OsRng
            .try_fill_bytes(bytes.as_mut())
            .expect("the operating system's random number generator failed");
        MasterKey(bytes)
    }

    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        MasterKey(Zeroizing::new(bytes))
    }

    /// Parses the hex form kept in key files (surrounding whitespace is ignored).
    pub fn from_hex(text: &str) -> Result<Self, KeyMaterialError> {
        parse_hex32("vendor master key", text).map(MasterKey)
    }

    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0.as_ref()))
    }

    /// `HMAC(master, "entrytarget.instance.v1" ‖ 0x00 ‖ instance_id)`.
    pub fn instance_key(&self, instance: &InstanceId) -> InstanceKey {
        InstanceKey(hmac_sha256(self.0.as_ref(), INSTANCE_CONTEXT, instance.as_str().as_bytes()))
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("MasterKey(<redacted>)")
    }
}

/// What is wrong with an instance id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InstanceIdError {
    #[error("the instance id is empty; use 1-64 characters of a-z, 0-9 and '-', e.g. acme-prod-eu1")]
    Empty,
    #[error("the instance id is {len} characters long; at most 64 are allowed")]
    TooLong { len: usize },
    #[error("the instance id may contain only a-z, 0-9 and '-'; the character at position {position} is not allowed")]
    BadCharacter { position: usize },
}

/// A ledger instance's id: 1–64 characters of `[a-z0-9-]`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct InstanceId(String);

impl InstanceId {
    pub fn parse(text: &str) -> Result<Self, InstanceIdError> {
        if text.is_empty() {
            return Err(InstanceIdError::Empty);
        }
        if text.len() > INSTANCE_ID_MAX {
            return Err(InstanceIdError::TooLong { len: text.chars().count() });
        }
        if let Some(position) = text.chars().position(|c| !(c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')) {
            return Err(InstanceIdError::BadCharacter { position: position + 1 });
        }
        Ok(InstanceId(text.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for InstanceId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for InstanceId {
    type Err = InstanceIdError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// The key a ledger instance holds: it can check pairs minted for it, and nothing else.
#[derive(Clone)]
pub struct InstanceKey(Zeroizing<[u8; 32]>);

impl InstanceKey {
    pub fn from_bytes(bytes: [u8; 32]) -> Self {
        InstanceKey(Zeroizing::new(bytes))
    }

    /// Parses the hex form handed to a ledger (surrounding whitespace is ignored).
    pub fn from_hex(text: &str) -> Result<Self, KeyMaterialError> {
        parse_hex32("instance key", text).map(InstanceKey)
    }

    pub fn to_hex(&self) -> Zeroizing<String> {
        Zeroizing::new(hex::encode(self.0.as_ref()))
    }

    /// The first 8 hex digits of SHA-256 of the 32 key bytes: enough for a vendor and an operator
    /// to compare keys (`etctl vendor instance-key --fingerprint`, ledgerd's start-up log) without
    /// reading the key itself aloud, and far too little to learn anything about it.
    pub fn fingerprint(&self) -> String {
        let digest = Sha256::digest(self.0.as_ref());
        hex::encode(&digest[..4])
    }

    /// A deriver with the HMAC key schedule done once, for minting or checking many pairs.
    pub fn deriver(&self) -> Deriver {
        let mut mac = HmacSha256::new_from_slice(self.0.as_ref()).expect("HMAC accepts keys of any length");
        mac.update(CREDENTIAL_CONTEXT);
        mac.update(&[0]);
        Deriver { mac }
    }

    /// `"sk_" ‖ hex(HMAC(instance key, "entrytarget.credential.v1" ‖ 0x00 ‖ api_key))`.
    pub fn secret_for(&self, key: &ApiKey) -> ApiSecret {
        self.deriver().secret_for(key)
    }

    /// Whether `secret` is the one derived for `key` under this instance key, in constant time.
    pub fn verify(&self, key: &ApiKey, secret: &ApiSecret) -> bool {
        self.deriver().verify(key, secret)
    }
}

impl fmt::Debug for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InstanceKey(<redacted>)")
    }
}

/// An instance key's HMAC with the context prefix already absorbed; cloning it is cheap.
#[derive(Clone)]
pub struct Deriver {
    mac: HmacSha256,
}

impl Deriver {
    fn tag(&self, key: &ApiKey) -> Zeroizing<[u8; 32]> {
        let mut mac = self.mac.clone();
        mac.update(key.as_str().as_bytes());
        Zeroizing::new(mac.finalize().into_bytes().into())
    }

    pub fn secret_for(&self, key: &ApiKey) -> ApiSecret {
        let tag = self.tag(key);
        let mut text = Zeroizing::new(String::with_capacity(API_SECRET_LEN));
        text.push_str("sk_");
        let mut hexed = Zeroizing::new([0u8; 64]);
        hex::encode_to_slice(tag.as_ref(), hexed.as_mut()).expect("64 bytes hold 32 in hex");
        text.push_str(std::str::from_utf8(hexed.as_ref()).expect("hex is ASCII"));
        ApiSecret(text)
    }

    pub fn verify(&self, key: &ApiKey, secret: &ApiSecret) -> bool {
        let expected = self.secret_for(key);
        bool::from(expected.expose().as_bytes().ct_eq(secret.expose().as_bytes()))
    }
}

impl fmt::Debug for Deriver {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Deriver(<redacted>)")
    }
}

/// What is wrong with an `api_key`. Keys are not secret, but messages still quote positions only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiKeyError {
    #[error("the API key is empty; it looks like ak_ followed by 40 hex digits")]
    Empty,
    #[error("the API key has whitespace around or inside it; copy it again without spaces or line breaks")]
    Whitespace,
    #[error("an API key starts with \"ak_\"; this one does not (is it a secret, which starts with \"sk_\"?)")]
    WrongPrefix,
    #[error("an API key is 43 characters long (\"ak_\" and 40 hex digits); this one has {len}")]
    WrongLength { len: usize },
    #[error(
        "an API key uses lowercase hex digits (0-9, a-f) after \"ak_\"; the character at position {position} is not one"
    )]
    NotLowercaseHex { position: usize },
    #[error("the API key's checksum does not match: a character was changed in copying; copy the key again")]
    Checksum,
}

/// A public credential identifier, `ak_` ‖ R ‖ C. Safe to log.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct ApiKey(String);

fn checksum_hex(random_hex: &[u8]) -> [u8; 8] {
    let digest = Sha256::digest(random_hex);
    let mut out = [0u8; 8];
    hex::encode_to_slice(&digest[..4], &mut out).expect("8 bytes hold 4 in hex");
    out
}

fn is_lower_hex(b: u8) -> bool {
    b.is_ascii_digit() || (b'a'..=b'f').contains(&b)
}

impl ApiKey {
    /// A new key with 16 bytes from a CSPRNG seeded by the OS.
    pub fn generate() -> Self {
        Self::generate_with(&mut rand::rng())
    }

    /// A new key with randomness from `rng` (which must be a CSPRNG outside tests).
    pub fn generate_with(rng: &mut impl RngCore) -> Self {
        let mut random = [0u8; 16];
        rng.fill_bytes(&mut random);
        Self::from_random(&random)
    }

    /// The key whose random part R is `hex(random)`.
    pub fn from_random(random: &[u8; 16]) -> Self {
        let mut text = [0u8; API_KEY_LEN];
        text[..3].copy_from_slice(b"ak_");
        hex::encode_to_slice(random, &mut text[3..35]).expect("32 bytes hold 16 in hex");
        let sum = checksum_hex(&text[3..35]);
        text[35..].copy_from_slice(&sum);
        ApiKey(String::from_utf8(text.to_vec()).expect("hex is ASCII"))
    }

    /// Checks prefix, length, alphabet and checksum, and says precisely which one failed.
    pub fn parse(text: &str) -> Result<Self, ApiKeyError> {
        Self::check(text)?;
        Ok(ApiKey(text.to_owned()))
    }

    /// What [`ApiKey::parse`] checks, without keeping a copy of the key (ledgerd checks every key
    /// it has not cached, on the request path).
    pub fn check(text: &str) -> Result<(), ApiKeyError> {
        let bytes = text.as_bytes();
        // A well-formed key is seen in one pass over its bytes; only a malformed one is examined
        // to say what is wrong with it.
        let well_formed =
            bytes.len() == API_KEY_LEN && bytes.starts_with(b"ak_") && bytes[3..].iter().all(|&b| is_lower_hex(b));
        if !well_formed {
            if text.is_empty() {
                return Err(ApiKeyError::Empty);
            }
            if text.chars().any(char::is_whitespace) {
                return Err(ApiKeyError::Whitespace);
            }
            if !text.starts_with("ak_") {
                return Err(ApiKeyError::WrongPrefix);
            }
            if text.len() != API_KEY_LEN {
                return Err(ApiKeyError::WrongLength { len: text.chars().count() });
            }
            if let Some(i) = bytes[3..].iter().position(|&b| !is_lower_hex(b)) {
                return Err(ApiKeyError::NotLowercaseHex { position: i + 4 });
            }
        }
        if checksum_hex(&bytes[3..35]) != bytes[35..] {
            return Err(ApiKeyError::Checksum);
        }
        Ok(())
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for ApiKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::str::FromStr for ApiKey {
    type Err = ApiKeyError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

/// What is wrong with an `api_secret`. Messages never quote any part of the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApiSecretError {
    #[error("the API secret is empty; it looks like sk_ followed by 64 hex digits")]
    Empty,
    #[error("the API secret has whitespace around or inside it; copy it again without spaces or line breaks")]
    Whitespace,
    #[error("an API secret starts with \"sk_\"; this one does not (is it a key, which starts with \"ak_\"?)")]
    WrongPrefix,
    #[error("an API secret is 67 characters long (\"sk_\" and 64 hex digits); this one has {len}")]
    WrongLength { len: usize },
    #[error(
        "an API secret uses lowercase hex digits (0-9, a-f) after \"sk_\"; the character at position {position} is not one"
    )]
    NotLowercaseHex { position: usize },
}

/// A plaintext `sk_` secret. Wiped on drop; `Debug` shows nothing.
#[derive(Clone)]
pub struct ApiSecret(Zeroizing<String>);

impl ApiSecret {
    pub fn parse(text: &str) -> Result<Self, ApiSecretError> {
        if text.is_empty() {
            return Err(ApiSecretError::Empty);
        }
        if text.chars().any(char::is_whitespace) {
            return Err(ApiSecretError::Whitespace);
        }
        if !text.starts_with("sk_") {
            return Err(ApiSecretError::WrongPrefix);
        }
        if text.len() != API_SECRET_LEN {
            return Err(ApiSecretError::WrongLength { len: text.chars().count() });
        }
        if let Some(i) = text.as_bytes()[3..].iter().position(|&b| !is_lower_hex(b)) {
            return Err(ApiSecretError::NotLowercaseHex { position: i + 4 });
        }
        Ok(ApiSecret(Zeroizing::new(text.to_owned())))
    }

    /// The plaintext, for sending it where it must go. Never log it.
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The hash stored in the database.
    pub fn hash(&self) -> SecretHash {
        SecretHash::of(self.expose())
    }
}

impl fmt::Debug for ApiSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ApiSecret(<redacted>)")
    }
}

/// `SHA-256(api_secret)`; stored as lowercase hex. Knowing it does not let anyone authenticate.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct SecretHash([u8; 32]);

impl SecretHash {
    /// Hashes any presented secret text, well-formed or not, so every check costs the same.
    pub fn of(secret: &str) -> Self {
        SecretHash(Sha256::digest(secret.as_bytes()).into())
    }

    pub fn from_hex(text: &str) -> Result<Self, KeyMaterialError> {
        parse_hex32("secret hash", text).map(|bytes| SecretHash(*bytes))
    }

    /// A hash as the ledger stores it: exactly 64 lowercase hex digits, nothing around them;
    /// anything else is `None` (and so matches no secret). One pass, on every cache miss.
    pub fn from_stored(text: &[u8]) -> Option<Self> {
        fn nibble(b: u8) -> Option<u8> {
            match b {
                b'0'..=b'9' => Some(b - b'0'),
                b'a'..=b'f' => Some(b - b'a' + 10),
                _ => None,
            }
        }
        let pairs = text.as_chunks::<2>();
        let (pairs, []) = pairs else { return None };
        if pairs.len() != 32 {
            return None;
        }
        let mut out = [0u8; 32];
        for (byte, [hi, lo]) in out.iter_mut().zip(pairs) {
            *byte = (nibble(*hi)? << 4) | nibble(*lo)?;
        }
        Some(SecretHash(out))
    }

    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    pub fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }

    /// Constant-time comparison with another hash.
    pub fn ct_matches(&self, other: &SecretHash) -> bool {
        bool::from(self.0.ct_eq(&other.0))
    }
}

impl fmt::Debug for SecretHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretHash(<redacted>)")
    }
}

/// Hex of 16 bytes from a CSPRNG, for ids that need to be unguessable but not derived.
pub fn random_hex16() -> String {
    let mut bytes = [0u8; 16];
    rand::rng().fill_bytes(&mut bytes);
    hex::encode(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    // SPEC §2 test vector.
    const MASTER: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const INSTANCE_KEY: &str = "089489b6e984867345c43d15dc262b9a5b7afdc76bd1c7c5426ac000fac4a63c";
    const API_KEY: &str = "ak_000102030405060708090a0b0c0d0e0fd65df89f";
    const API_SECRET: &str = "sk_503baa03e200179d94e68a83c1b510594e56fd9ff84ce7ef436335c0399f797c";
    const STORED_HASH: &str = "684973506859df19ac316208329d03b18da03ecbd11ef2db0561ac72602000c0";

    #[test]
    fn a_stored_hash_is_read_only_when_it_is_64_lowercase_hex_digits() {
        let expected = SecretHash::of(API_SECRET);
        assert!(SecretHash::from_stored(STORED_HASH.as_bytes()).is_some_and(|h| h.ct_matches(&expected)));
        // Each wrong form matches nothing, as the schema would have refused it.
        for bad in [
            STORED_HASH.to_uppercase(),
            format!(" {STORED_HASH}"),
            format!("{STORED_HASH}\n"),
            STORED_HASH[..63].to_owned(),
            format!("{STORED_HASH}0"),
            "x".repeat(64),
            String::new(),
            STORED_HASH.replacen('6', "g", 1),
        ] {
            assert!(SecretHash::from_stored(bad.as_bytes()).is_none(), "{bad:?} was read as a hash");
        }
        // Every digit in every position: the same bytes as the general parser.
        for i in 0..64 {
            for d in "0123456789abcdef".chars() {
                let mut text = STORED_HASH.to_owned();
                text.replace_range(i..=i, &d.to_string());
                let fast = SecretHash::from_stored(text.as_bytes()).expect("64 lowercase hex digits");
                assert_eq!(fast.as_bytes(), SecretHash::from_hex(&text).unwrap().as_bytes());
            }
        }
    }

    fn vector_random() -> [u8; 16] {
        core::array::from_fn(|i| i as u8)
    }

    #[test]
    fn an_instance_key_fingerprint_is_the_first_8_hex_of_its_sha256() {
        // sha256(bytes.fromhex(INSTANCE_KEY))[:4], computed independently with Python's hashlib.
        assert_eq!(InstanceKey::from_hex(INSTANCE_KEY).unwrap().fingerprint(), "70e44659");
    }

    #[test]
    fn spec_test_vector_byte_for_byte() {
        let master = MasterKey::from_hex(MASTER).unwrap();
        let instance = InstanceId::parse("acme-prod-eu1").unwrap();
        let instance_key = master.instance_key(&instance);
        assert_eq!(instance_key.to_hex().as_str(), INSTANCE_KEY);

        let key = ApiKey::from_random(&vector_random());
        assert_eq!(key.as_str(), API_KEY);

        let secret = instance_key.secret_for(&key);
        assert_eq!(secret.expose(), API_SECRET);
        assert_eq!(secret.hash().to_hex(), STORED_HASH);
        assert!(instance_key.verify(&key, &secret));
    }

    #[test]
    fn the_vector_parses_and_round_trips() {
        assert_eq!(ApiKey::parse(API_KEY).unwrap().as_str(), API_KEY);
        let secret = ApiSecret::parse(API_SECRET).unwrap();
        let instance_key = InstanceKey::from_hex(INSTANCE_KEY).unwrap();
        assert!(instance_key.verify(&ApiKey::parse(API_KEY).unwrap(), &secret));
        assert_eq!(SecretHash::from_hex(STORED_HASH).unwrap(), secret.hash());
    }

    #[test]
    fn a_pair_for_one_instance_fails_on_another() {
        let master = MasterKey::from_hex(MASTER).unwrap();
        let eu = master.instance_key(&InstanceId::parse("acme-prod-eu1").unwrap());
        let us = master.instance_key(&InstanceId::parse("acme-prod-us1").unwrap());
        let key = ApiKey::generate();
        let secret = eu.secret_for(&key);
        assert!(eu.verify(&key, &secret));
        assert!(!us.verify(&key, &secret));
    }

    #[test]
    fn generated_keys_parse_and_differ() {
        let a = ApiKey::generate();
        let b = ApiKey::generate();
        assert_ne!(a, b);
        assert_eq!(ApiKey::parse(a.as_str()).unwrap(), a);
        assert_eq!(a.as_str().len(), API_KEY_LEN);
    }

    #[test]
    fn key_parse_names_what_is_wrong() {
        use ApiKeyError::*;
        let cases: &[(&str, ApiKeyError)] = &[
            ("", Empty),
            (" ak_000102030405060708090a0b0c0d0e0fd65df89f", Whitespace),
            ("ak_000102030405060708090a0b0c0d0e0fd65df89f\n", Whitespace),
            ("sk_000102030405060708090a0b0c0d0e0fd65df89f", WrongPrefix),
            ("AK_000102030405060708090a0b0c0d0e0fd65df89f", WrongPrefix),
            ("ak_000102030405060708090a0b0c0d0e0fd65df89", WrongLength { len: 42 }),
            ("ak_000102030405060708090a0b0c0d0e0fd65df89f0", WrongLength { len: 44 }),
            ("ak_000102030405060708090A0b0c0d0e0fd65df89f", NotLowercaseHex { position: 25 }),
            ("ak_00010203040506070809g a0b0c0d0e0fd65df89", Whitespace),
            ("ak_00010203040506070809ga0b0c0d0e0fd65df89f", NotLowercaseHex { position: 24 }),
            ("ak_100102030405060708090a0b0c0d0e0fd65df89f", Checksum),
            ("ak_000102030405060708090a0b0c0d0e0fd65df89e", Checksum),
        ];
        for (text, want) in cases {
            assert_eq!(ApiKey::parse(text).as_ref(), Err(want), "{text:?}");
            assert_eq!(ApiKey::check(text).as_ref(), Err(want), "{text:?}");
        }
        assert_eq!(ApiKey::check("ak_000102030405060708090a0b0c0d0e0fd65df89f"), Ok(()));
    }

    #[test]
    fn secret_parse_names_what_is_wrong_without_quoting_it() {
        use ApiSecretError::*;
        let good = API_SECRET;
        assert!(ApiSecret::parse(good).is_ok());
        assert_eq!(ApiSecret::parse("").unwrap_err(), Empty);
        assert_eq!(ApiSecret::parse(&good.replace("sk_", "ak_")).unwrap_err(), WrongPrefix);
        assert_eq!(ApiSecret::parse(&good[..66]).unwrap_err(), WrongLength { len: 66 });
        assert_eq!(ApiSecret::parse(&format!("{good} ")).unwrap_err(), Whitespace);
        assert_eq!(
            ApiSecret::parse(&good.to_uppercase().replacen("SK_", "sk_", 1)).unwrap_err(),
            NotLowercaseHex { position: 7 }
        );
        for err in [Empty, Whitespace, WrongPrefix, WrongLength { len: 1 }, NotLowercaseHex { position: 9 }] {
            assert!(!err.to_string().contains(&good[3..12]));
        }
    }

    #[test]
    fn debug_output_never_shows_secrets() {
        let master = MasterKey::from_hex(MASTER).unwrap();
        let instance_key = InstanceKey::from_hex(INSTANCE_KEY).unwrap();
        let secret = ApiSecret::parse(API_SECRET).unwrap();
        let shown = format!("{master:?} {instance_key:?} {secret:?} {:?} {:?}", secret.hash(), instance_key.deriver());
        for needle in [&MASTER[..16], &INSTANCE_KEY[..16], &API_SECRET[3..19], &STORED_HASH[..16]] {
            assert!(!shown.contains(needle), "{shown}");
        }
    }

    #[test]
    fn key_material_errors_are_precise() {
        assert_eq!(
            InstanceKey::from_hex("abc").unwrap_err(),
            KeyMaterialError::WrongLength { what: "instance key", len: 3 }
        );
        let bad = format!("{}zz", &INSTANCE_KEY[..62]);
        assert_eq!(
            InstanceKey::from_hex(&bad).unwrap_err(),
            KeyMaterialError::NotHex { what: "instance key", position: 63 }
        );
        assert!(MasterKey::from_hex(&format!("  {MASTER}\n")).is_ok());
        assert_ne!(MasterKey::generate().to_hex(), MasterKey::generate().to_hex());
    }

    #[test]
    fn instance_ids_are_validated() {
        assert!(InstanceId::parse("acme-prod-eu1").is_ok());
        assert!(InstanceId::parse(&"a".repeat(64)).is_ok());
        assert_eq!(InstanceId::parse("").unwrap_err(), InstanceIdError::Empty);
        assert_eq!(InstanceId::parse(&"a".repeat(65)).unwrap_err(), InstanceIdError::TooLong { len: 65 });
        assert_eq!(InstanceId::parse("Acme").unwrap_err(), InstanceIdError::BadCharacter { position: 1 });
        assert_eq!(InstanceId::parse("acme_prod").unwrap_err(), InstanceIdError::BadCharacter { position: 5 });
    }
}
