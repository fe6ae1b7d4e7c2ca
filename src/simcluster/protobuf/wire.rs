//! The protobuf wire format, read field by field: varints, fixed widths
//! and length-delimited bytes.

/// How a field's value is laid out on the wire.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireType {
    Varint,
    Fixed64,
    Bytes,
    Fixed32,
}

/// One field as read: its number and its raw value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WireValue<'a> {
    Varint(u64),
    Fixed64(u64),
    Bytes(&'a [u8]),
    Fixed32(u32),
}

impl WireValue<'_> {
    pub fn wire_type(&self) -> WireType {
        match self {
            WireValue::Varint(_) => WireType::Varint,
            WireValue::Fixed64(_) => WireType::Fixed64,
            WireValue::Bytes(_) => WireType::Bytes,
            WireValue::Fixed32(_) => WireType::Fixed32,
        }
    }
}

/// Why bytes are not a protobuf message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WireError {
    #[error("the message ends inside a field at byte {0}")]
    Truncated(usize),
    #[error("a varint at byte {0} is longer than ten bytes")]
    LongVarint(usize),
    #[error("wire type {wire_type} at byte {at} is not one Kubernetes uses")]
    UnknownWireType { wire_type: u64, at: usize },
}

/// Reads the fields of one message in order.
pub struct Fields<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Fields<'a> {
    pub fn new(bytes: &'a [u8]) -> Self {
        Fields { bytes, at: 0 }
    }

    fn varint(&mut self) -> Result<u64, WireError> {
        let start = self.at;
        let mut value = 0u64;
        for shift in 0..10 {
            let byte = *self.bytes.get(self.at).ok_or(WireError::Truncated(start))?;
            self.at += 1;
            value |= u64::from(byte & 0x7f) << (shift * 7);
            if byte & 0x80 == 0 {
                return Ok(value);
            }
        }
        Err(WireError::LongVarint(start))
    }

    fn take(&mut self, length: usize) -> Result<&'a [u8], WireError> {
        let start = self.at;
        let end = start
            .checked_add(length)
            .filter(|end| *end <= self.bytes.len())
            .ok_or(WireError::Truncated(start))?;
        self.at = end;
        Ok(&self.bytes[start..end])
    }

    fn fixed<const N: usize>(&mut self) -> Result<[u8; N], WireError> {
        let start = self.at;
        self.take(N)?
            .try_into()
            .map_err(|_| WireError::Truncated(start))
    }

    fn field(&mut self) -> Result<(u32, WireValue<'a>), WireError> {
        let at = self.at;
        let key = self.varint()?;
        let number = u32::try_from(key >> 3).unwrap_or(u32::MAX);
        let value = match key & 7 {
            0 => WireValue::Varint(self.varint()?),
            1 => WireValue::Fixed64(u64::from_le_bytes(self.fixed()?)),
            2 => {
                let length = usize::try_from(self.varint()?).unwrap_or(usize::MAX);
                WireValue::Bytes(self.take(length)?)
            }
            5 => WireValue::Fixed32(u32::from_le_bytes(self.fixed()?)),
            wire_type => return Err(WireError::UnknownWireType { wire_type, at }),
        };
        Ok((number, value))
    }

    /// The varints packed in one length-delimited value.
    pub fn packed_varints(bytes: &'a [u8]) -> Result<Vec<u64>, WireError> {
        let mut fields = Fields::new(bytes);
        let mut values = Vec::new();
        while fields.at < fields.bytes.len() {
            values.push(fields.varint()?);
        }
        Ok(values)
    }
}

impl<'a> Iterator for Fields<'a> {
    type Item = Result<(u32, WireValue<'a>), WireError>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.at >= self.bytes.len() {
            return None;
        }
        let field = self.field();
        if field.is_err() {
            // Nothing after a broken field can be read.
            self.at = self.bytes.len();
        }
        Some(field)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_read_in_order_with_their_values() {
        // 1: varint 300, 2: "hi", 3: fixed32 7, 4: fixed64 9
        let bytes = [
            0x08, 0xac, 0x02, 0x12, 0x02, b'h', b'i', 0x1d, 7, 0, 0, 0, 0x21, 9, 0, 0, 0, 0, 0, 0,
            0,
        ];
        let fields: Vec<_> = Fields::new(&bytes).collect::<Result<_, _>>().unwrap();
        assert_eq!(
            fields,
            vec![
                (1, WireValue::Varint(300)),
                (2, WireValue::Bytes(b"hi")),
                (3, WireValue::Fixed32(7)),
                (4, WireValue::Fixed64(9)),
            ]
        );
    }

    #[test]
    fn a_length_past_the_end_is_truncated_not_a_panic() {
        let fields: Vec<_> = Fields::new(&[0x12, 0x05, b'a']).collect();
        assert_eq!(fields, vec![Err(WireError::Truncated(2))]);
    }

    #[test]
    fn odd_bytes_never_panic() {
        for bytes in [
            &[0xff; 12][..],
            &[0x0b][..],
            &[0x12, 0xff, 0xff, 0xff, 0xff, 0x0f][..],
            &[0x09, 1, 2][..],
        ] {
            assert!(Fields::new(bytes).any(|f| f.is_err()), "{bytes:?}");
        }
    }

    #[test]
    fn packed_varints_are_split() {
        assert_eq!(
            Fields::packed_varints(&[1, 0xac, 0x02, 3]).unwrap(),
            vec![1, 300, 3]
        );
    }
}
