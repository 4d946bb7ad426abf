//! CAR v1: written and read back three ways, every block verified; corrupt,
//! lying and truncated files refused with an error that says where.

use atlex::car::{Blocks, Car, CarError, CarReader, CarStream, CarWriter};
use atlex::cbor::{self, Cid};
use atlex::data::Value;
use serde_json::json;

#[allow(unused_macros)] // The endpoint macro: not needed here.
mod common;
use common::varint;

fn records() -> Vec<Value> {
    (0..20)
        .map(|i| {
            Value::from_json(json!({
                "$type": "com.example.note",
                "text": format!("note {i}"),
                "n": i,
            }))
            .unwrap()
        })
        .collect()
}

/// A CAR of the records, rooted at a value linking to all of them.
fn car() -> (Vec<u8>, Cid, Vec<Cid>) {
    let mut writer = CarWriter::new(Vec::new()).unwrap();
    let cids: Vec<Cid> = records()
        .iter()
        .map(|record| writer.write_value(record).unwrap())
        .collect();
    let root = Value::Array(
        cids.iter()
            .map(|cid| Value::Link(cid.clone().into()))
            .collect(),
    );
    let root = writer.write_value(&root).unwrap();
    (
        writer
            .finish_with_roots(std::slice::from_ref(&root))
            .unwrap(),
        root,
        cids,
    )
}

#[test]
fn a_written_car_reads_back() {
    let (bytes, root, cids) = car();
    let car = Car::from_slice(&bytes).unwrap();
    assert_eq!(car.roots(), std::slice::from_ref(&root));
    assert_eq!(car.blocks.len(), 21);
    let root_value: Value = car.blocks.decode(&root).unwrap();
    assert_eq!(root_value.as_array().unwrap().len(), 20);
    for (cid, record) in cids.iter().zip(records()) {
        assert_eq!(car.blocks.decode::<Value>(cid).unwrap(), record);
        assert_eq!(car.blocks.get(cid).unwrap(), cbor::to_vec(&record).unwrap());
    }
    // Written again (in CID order), it reads the same.
    let again = Car::from_slice(&car.to_vec().unwrap())
        .unwrap()
        .blocks
        .into_owned();
    assert_eq!(again.len(), 21);
    assert!(cids.iter().all(|cid| again.get(cid) == car.blocks.get(cid)));

    // Block by block, from memory and from a reader.
    let reader = CarReader::new(&bytes).unwrap();
    assert_eq!(reader.header().roots, std::slice::from_ref(&root));
    let from_memory: Vec<Cid> = reader.map(|block| block.unwrap().cid).collect();
    let stream = CarStream::new(std::io::BufReader::new(&bytes[..])).unwrap();
    assert_eq!(stream.header().roots, std::slice::from_ref(&root));
    let from_stream: Vec<Cid> = stream.map(|block| block.unwrap().cid).collect();
    let mut written = cids.clone();
    written.push(root.clone());
    assert_eq!(from_memory, written);
    assert_eq!(from_stream, written);
    let owned = Car::from_reader(&bytes[..]).unwrap();
    assert_eq!(owned.blocks.len(), 21);

    // A writer given its roots first writes the same file.
    let mut writer = CarWriter::with_roots(Vec::new(), std::slice::from_ref(&root)).unwrap();
    for record in records() {
        writer.write_value(&record).unwrap();
    }
    let links = Value::Array(
        cids.iter()
            .map(|cid| Value::Link(cid.clone().into()))
            .collect(),
    );
    writer.write_value(&links).unwrap();
    assert_eq!(writer.finish().unwrap(), bytes);
    let writer = CarWriter::with_roots(Vec::new(), std::slice::from_ref(&root)).unwrap();
    assert!(matches!(
        writer.finish_with_roots(&[]),
        Err(CarError::RootsWritten)
    ));
}

#[test]
fn a_corrupted_block_is_refused_naming_it() {
    let (bytes, _, cids) = car();
    // The text of the fifth record, "note 4", becomes "note X".
    let at = bytes.windows(6).position(|w| w == b"note 4").unwrap();
    let mut bad = bytes.clone();
    bad[at + 5] = b'X';
    let expected = format!("block {}: its bytes hash to ", cids[4]);
    let err = Car::from_slice(&bad).unwrap_err().to_string();
    assert!(err.starts_with(&expected), "{err}");
    let err = Car::from_reader(&bad[..]).unwrap_err().to_string();
    assert!(err.starts_with(&expected), "{err}");
    // Block by block: the four before it read, then the error, then nothing.
    let results: Vec<_> = CarReader::new(&bad).unwrap().collect();
    assert_eq!(results.len(), 5);
    assert!(results[..4].iter().all(Result::is_ok));
    assert!(
        results[4]
            .as_ref()
            .unwrap_err()
            .to_string()
            .starts_with(&expected)
    );

    // Inserting or writing a block under a wrong CID fails the same way.
    let mut blocks = Blocks::new();
    assert!(blocks.insert(cids[0].clone(), &b"other bytes"[..]).is_err());
    assert!(blocks.is_empty());
    let mut writer = CarWriter::new(Vec::new()).unwrap();
    assert!(matches!(
        writer.write_block(&cids[0], b"x"),
        Err(CarError::Verify(_))
    ));
}

/// An unsigned LEB128 varint, as CAR length prefixes are written.
#[test]
fn a_header_that_lies_about_its_size_is_refused() {
    let (bytes, _, _) = car();
    let header_len = bytes[0] as usize;
    let header = &bytes[1..1 + header_len];
    for claimed in [header_len as u64 + 1_000, 1 << 40] {
        let mut lying = varint(claimed);
        lying.extend(header);
        let err = CarReader::new(&lying).err().unwrap().to_string();
        assert!(
            err.contains(&format!("header at byte 0 claims {claimed} bytes")),
            "{err}"
        );
        let err = CarStream::new(&lying[..]).err().unwrap().to_string();
        assert!(err.contains(&format!("claims {claimed} bytes")), "{err}");
    }
    // Shorter than it is: the header does not decode.
    let mut short = varint(header_len as u64 - 3);
    short.extend(header);
    assert!(matches!(CarReader::new(&short), Err(CarError::Header(_))));
    // Not a header, or another version.
    for not_header in [
        json!({ "roots": [], "version": 2 }),
        json!({ "version": 1 }),
        json!([1]),
    ] {
        let value = cbor::to_vec(&Value::from_json(not_header.clone()).unwrap()).unwrap();
        let mut file = varint(value.len() as u64);
        file.extend(value);
        let err = CarReader::new(&file).err().unwrap().to_string();
        assert!(
            err.contains("version 2") || err.contains("invalid CAR header"),
            "{not_header}: {err}"
        );
    }
    // Nothing at all, or a broken length prefix.
    assert!(matches!(
        CarReader::new(&[]),
        Err(CarError::Truncated { .. })
    ));
    assert!(matches!(
        CarReader::new(&[0xff; 11]),
        Err(CarError::Length { .. })
    ));
    assert!(matches!(
        CarStream::new(&[0xff; 11][..]),
        Err(CarError::Length { .. })
    ));
    assert!(matches!(
        CarStream::new(&[0x80][..]),
        Err(CarError::Length { .. })
    ));
}

#[test]
fn a_block_that_lies_about_its_size_is_refused_without_allocating_it() {
    let (bytes, _, _) = car();
    let header_end = 1 + bytes[0] as usize;
    let block_len = bytes[header_end] as usize;
    let block = &bytes[header_end + 1..header_end + 1 + block_len];
    let mut lying = bytes[..header_end].to_vec();
    lying.extend(varint(1 << 40));
    lying.extend(block);
    let err = Car::from_slice(&lying).unwrap_err().to_string();
    assert!(
        err.contains(&format!(
            "truncated CAR: the block at byte {header_end} claims 1099511627776 bytes, {} remain",
            block.len()
        )),
        "{err}"
    );
    let err = Car::from_reader(&lying[..]).unwrap_err().to_string();
    assert!(err.contains("more than the 4194304 allowed"), "{err}");
    // Within the bound but beyond the input: the stream reads what there is.
    let mut short = bytes[..header_end].to_vec();
    short.extend(varint(1 << 20));
    short.extend(block);
    let err = Car::from_reader(&short[..]).unwrap_err().to_string();
    assert!(
        err.contains(&format!("claims 1048576 bytes, {} remain", block.len())),
        "{err}"
    );
    // A stream with a smaller bound.
    let err = CarStream::with_max_block(&bytes[..], 16)
        .unwrap()
        .next()
        .unwrap()
        .unwrap_err()
        .to_string();
    assert!(err.contains("more than the 16 allowed"), "{err}");
}

#[test]
fn a_block_with_a_bad_or_unverifiable_cid_is_refused() {
    let (bytes, _, _) = car();
    let header_end = 1 + bytes[0] as usize;
    let mut file = bytes[..header_end].to_vec();
    // A section that is not a CID.
    file.extend(varint(3));
    file.extend([0x01, 0xff, 0xff]);
    let err = Car::from_slice(&file).unwrap_err().to_string();
    assert!(
        err.starts_with(&format!("invalid CID in the block at byte {header_end}")),
        "{err}"
    );

    // A CID with a hash atproto does not use (blake3, 0x1e) cannot be verified.
    let digest = [7u8; 32];
    let hash = atlex::cid::multihash::Multihash::<64>::wrap(0x1e, &digest).unwrap();
    let cid = Cid::from(atlex::cid::Cid::new_v1(cbor::RAW, hash));
    let mut file = bytes[..header_end].to_vec();
    let cid_bytes = cid.to_bytes();
    file.extend(varint(cid_bytes.len() as u64 + 2));
    file.extend(cid_bytes);
    file.extend([1, 2]);
    let err = Car::from_slice(&file).unwrap_err().to_string();
    assert!(err.contains("hash function 0x1e is not supported"), "{err}");
}

#[test]
fn decoding_a_missing_or_wrong_block_names_it() {
    let (bytes, root, cids) = car();
    let car = Car::from_slice(&bytes).unwrap();
    let absent = cbor::cid_for(cbor::DAG_CBOR, b"absent");
    assert_eq!(
        car.blocks.decode::<Value>(&absent).unwrap_err().to_string(),
        format!("no block {absent}")
    );
    let err = car.blocks.decode::<String>(&root).unwrap_err().to_string();
    assert!(err.starts_with(&format!("block {root}: ")), "{err}");
    assert!(car.blocks.decode_lenient::<Value>(&cids[0]).is_ok());
}
