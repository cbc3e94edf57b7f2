//! The hostile-body fault: an XML answer with an internal DTD subset declaring one entity
//! of 33,334 characters and a root that references it 150,000 times — about 480 KB on the
//! wire, about 5 GB once expanded (issue 10 §4). Real Qualys only sends external `SYSTEM`
//! DOCTYPEs (qualys-api.md §8.2), so a client must refuse any internal subset unparsed.

use std::sync::OnceLock;

use bytes::Bytes;

/// Characters in the entity's value.
const ENTITY_LEN: usize = 33_334;
/// References to the entity in the body.
const REFERENCES: usize = 150_000;

/// The body, built once per process.
pub(crate) fn entity_expansion() -> Bytes {
    static BODY: OnceLock<Bytes> = OnceLock::new();
    BODY.get_or_init(|| {
        let mut x = String::with_capacity(ENTITY_LEN + 3 * REFERENCES + 512);
        x.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\" ?>\n");
        x.push_str("<!DOCTYPE SIMPLE_RETURN [\n  <!ENTITY a \"");
        x.extend(std::iter::repeat_n('A', ENTITY_LEN));
        x.push_str("\">\n]>\n<SIMPLE_RETURN>\n  <RESPONSE>\n    <TEXT>");
        for _ in 0..REFERENCES {
            x.push_str("&a;");
        }
        x.push_str("</TEXT>\n  </RESPONSE>\n</SIMPLE_RETURN>\n");
        Bytes::from(x)
    })
    .clone()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_on_the_wire_huge_when_expanded() {
        let b = entity_expansion();
        assert!((300_000..600_000).contains(&b.len()), "{}", b.len());
        let text = String::from_utf8_lossy(&b);
        assert!(text.contains("<!DOCTYPE SIMPLE_RETURN [") && text.contains("<!ENTITY a \""));
        let refs = text.matches("&a;").count();
        assert!(refs * ENTITY_LEN >= 5_000_000_000, "{refs} references");
    }
}
