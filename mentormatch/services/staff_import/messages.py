"""What each problem code says to the coordinator, in Bahasa Indonesia and English."""

from __future__ import annotations

from typing import Any

MESSAGES: dict[str, dict[str, str]] = {
    "missing_column": {
        "id": "Kolom wajib tidak ada: {value}",
        "en": "Required column missing: {value}",
    },
    "unknown_column": {
        "id": "Kolom target kompetensi tidak dikenal (tidak ada di katalog): {value}",
        "en": "Unknown competency target column (not in the catalogue): {value}",
    },
    "ignored_columns": {
        "id": "Kolom berikut tidak dikenal dan diabaikan (jika itu kompetensi, tambahkan dulu ke "
        "katalog): {value}",
        "en": "These columns are not recognised and were ignored (if one is a competency, add it "
        "to the catalogue first): {value}",
    },
    "duplicate_column": {
        "id": "Kolom muncul lebih dari sekali: {value}",
        "en": "Column appears more than once: {value}",
    },
    "bad_file": {
        "id": "Berkas tidak dapat dibaca sebagai CSV atau XLSX: {value}",
        "en": "The file cannot be read as CSV or XLSX: {value}",
    },
    "empty_file": {"id": "Berkas tidak berisi data.", "en": "The file contains no data."},
    "formula_no_value": {
        "id": "Sel berisi rumus tanpa nilai tersimpan (buka dan simpan ulang di Excel): {value}",
        "en": "Cell holds a formula with no cached value (open and save it in Excel): {value}",
    },
    "required": {"id": "Wajib diisi.", "en": "Required."},
    "nip_format": {"id": "NIP harus 18 digit: {value}", "en": "NIP must be 18 digits: {value}"},
    "nip_as_number": {
        "id": "NIP tersimpan sebagai angka dan kehilangan digit; format kolom sebagai Teks: "
        "{value}",
        "en": "NIP stored as a number lost digits; format the column as Text: {value}",
    },
    "nip_birth_date": {
        "id": "Tanggal lahir dalam NIP tidak valid: {value}",
        "en": "Birth date in the NIP is not a real date: {value}",
    },
    "nip_appointment_month": {
        "id": "Bulan pengangkatan dalam NIP tidak valid (01-12, PPPK 21-29): {value}",
        "en": "Appointment month in the NIP is invalid (01-12, PPPK 21-29): {value}",
    },
    "nip_appointment_before_birth": {
        "id": "Tanggal pengangkatan dalam NIP tidak masuk akal (sebelum/terlalu dekat lahir): "
        "{value}",
        "en": "Appointment date in the NIP is implausible (before or too close to birth): {value}",
    },
    "nip_appointment_future": {
        "id": "Tanggal pengangkatan (TMT) dalam NIP di masa depan: {value}",
        "en": "Appointment date (TMT) in the NIP is in the future: {value}",
    },
    "nip_birth_year": {
        "id": "Tahun lahir dalam NIP tidak masuk akal untuk pegawai aktif: {value}",
        "en": "Birth year in the NIP is implausible for serving staff: {value}",
    },
    "nip_too_young": {
        "id": "Pengangkatan (TMT) dalam NIP sebelum usia 18 tahun: {value}",
        "en": "Appointment (TMT) in the NIP before the age of 18: {value}",
    },
    "nip_pppk_year": {
        "id": "NIP PPPK dengan tahun pengangkatan sebelum 2019 (PPPK belum ada): {value}",
        "en": "PPPK NIP with an appointment year before 2019 (PPPK did not exist yet): {value}",
    },
    "nip_gender": {
        "id": "Digit jenis kelamin dalam NIP harus 1 atau 2: {value}",
        "en": "Gender digit in the NIP must be 1 or 2: {value}",
    },
    "nip_sequence": {
        "id": "Nomor urut dalam NIP tidak boleh 000: {value}",
        "en": "Sequence number in the NIP cannot be 000: {value}",
    },
    "nip_for_external": {
        "id": "Mitra eksternal tidak memiliki NIP: {value}",
        "en": "External mentors have no NIP: {value}",
    },
    "kind": {
        "id": "Jenis harus PNS, PPPK atau Eksternal: {value}",
        "en": "Type must be PNS, PPPK or External: {value}",
    },
    "kind_mismatch": {
        "id": "NIP ini milik {value}, tidak sesuai dengan kolom Jenis.",
        "en": "This NIP belongs to a {value}, which does not match the Type column.",
    },
    "grade": {
        "id": "Golongan tidak valid (contoh: III/a, 3a, PPPK IX): {value}",
        "en": "Invalid grade (e.g. III/a, 3a, PPPK IX): {value}",
    },
    "grade_kind": {
        "id": "Golongan tidak sesuai jenis pegawai: {value}",
        "en": "Grade does not fit the employee type: {value}",
    },
    "job_level": {"id": "Jenjang jabatan tidak dikenal: {value}",
                  "en": "Unknown job level: {value}"},
    "email": {"id": "Alamat e-mail tidak valid: {value}", "en": "Invalid e-mail address: {value}"},
    "email_taken": {
        "id": "E-mail sudah dipakai orang lain di basis data: {value}",
        "en": "E-mail already belongs to someone else in the database: {value}",
    },
    "duplicate_nip": {
        "id": "NIP ganda dalam berkas (lihat baris {value}).",
        "en": "Duplicate NIP in the file (see row {value}).",
    },
    "duplicate_email": {
        "id": "E-mail ganda dalam berkas (lihat baris {value}).",
        "en": "Duplicate e-mail in the file (see row {value}).",
    },
    "level": {
        "id": "Level harus bilangan bulat 1-5: {value}",
        "en": "Level must be a whole number 1-5: {value}",
    },
    "window_format": {
        "id": "Format waktu tidak valid (contoh: Sen 09:00-12:00; Kam 13:00-15:00): {value}",
        "en": "Invalid time window (e.g. Mon 09:00-12:00; Thu 13:00-15:00): {value}",
    },
    "window_order": {
        "id": "Jam mulai harus sebelum jam selesai: {value}",
        "en": "Start time must be before end time: {value}",
    },
    "leave": {
        "id": "Tanggal cuti tidak valid (contoh: 2026-12-01..2026-12-05): {value}",
        "en": "Invalid leave dates (e.g. 2026-12-01..2026-12-05): {value}",
    },
    "timezone": {"id": "Zona waktu tidak dikenal: {value}", "en": "Unknown time zone: {value}"},
    "zone_unknown": {
        "id": "Zona waktu tidak dapat ditentukan (tanpa lokasi, provinsi atau kota di unit "
        "kerja): isi kolom Zona Waktu atau pilih zona untuk berkas ini: {value}",
        "en": "The time zone cannot be known (no location, province or city in the unit): "
        "fill in the Time zone column or choose a zone for this file: {value}",
    },
    "timezone_required": {
        "id": "Kota tidak dikenal; isi kolom Zona Waktu (Asia/Jakarta, Asia/Makassar, "
        "Asia/Jayapura): {value}",
        "en": "Unknown city; fill in the Time zone column (Asia/Jakarta, Asia/Makassar, "
        "Asia/Jayapura): {value}",
    },
    "mode": {
        "id": "Mode harus daring, luring atau keduanya: {value}",
        "en": "Mode must be online, in person or either: {value}",
    },
    "supervisor_unknown": {
        "id": "NIP atasan tidak ditemukan di berkas maupun basis data: {value}",
        "en": "Supervisor NIP found neither in the file nor in the database: {value}",
    },
    "supervisor_self": {
        "id": "Atasan tidak boleh dirinya sendiri: {value}",
        "en": "A person cannot be their own supervisor: {value}",
    },
    "organisation_required": {
        "id": "Mitra eksternal wajib mengisi Instansi.",
        "en": "External mentors need an Organisation.",
    },
    "too_long": {"id": "Teks terlalu panjang: {value}", "en": "Text too long: {value}"},
    "control_chars": {
        "id": "Nama tidak boleh berisi baris baru atau karakter kendali: {value}",
        "en": "A name cannot contain line breaks or control characters: {value}",
    },
    "too_many_rows": {
        "id": "Berkas berisi lebih dari {value} baris data. Bagi berkas menjadi beberapa bagian "
        "lalu unggah satu per satu.",
        "en": "The file holds more than {value} data rows. Split it and upload the parts one "
        "by one.",
    },
    "too_slow": {
        "id": "Berkas terlalu besar atau rumit untuk diperiksa dalam {value} detik. Simpan "
        "ulang sebagai CSV atau bagi menjadi beberapa berkas.",
        "en": "The file is too big or complex to check within {value} seconds. Save it as CSV "
        "or split it into several files.",
    },
    "too_many_columns": {
        "id": "Baris judul berisi lebih dari {value} kolom; hapus kolom kosong di kanan tabel.",
        "en": "The header row has more than {value} columns; delete the empty columns on the "
        "right.",
    },
    "stopped_at_empty": {
        "id": "Pembacaan berhenti setelah {value} baris kosong berturut-turut; baris di "
        "bawahnya diabaikan.",
        "en": "Reading stopped after {value} empty rows in a row; rows below are ignored.",
    },
}


def message(code: str, value: Any = "", locale: str = "id") -> str:
    templates = MESSAGES.get(code, {"id": code + ": {value}", "en": code + ": {value}"})
    text = templates["en" if str(locale).startswith("en") else "id"]
    return text.format(value=value)
