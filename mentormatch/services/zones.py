"""Indonesia's time zone follows the province: WIB (Asia/Jakarta) for Sumatra, Java, Banten,
DKI, Kalimantan Barat and Tengah; WITA (Asia/Makassar) for Bali, NTB, NTT, Kalimantan Selatan,
Timur and Utara and all of Sulawesi; WIT (Asia/Jayapura) for Maluku, Maluku Utara and all Papua
provinces (Permendagri / Keppres 41/1987). Used to infer a person's zone from the province or
city of their unit or work location."""

from __future__ import annotations

import re

WIB, WITA, WIT = "Asia/Jakarta", "Asia/Makassar", "Asia/Jayapura"
LABELS = {WIB: "WIB", WITA: "WITA", WIT: "WIT"}

#: the 38 provinces (and the short names people write)
PROVINCES: dict[str, str] = {
    "aceh": WIB, "sumatera utara": WIB, "sumut": WIB, "sumatera barat": WIB, "sumbar": WIB,
    "riau": WIB, "kepulauan riau": WIB, "kepri": WIB, "jambi": WIB, "sumatera selatan": WIB,
    "sumsel": WIB, "bengkulu": WIB, "lampung": WIB, "bangka belitung": WIB, "babel": WIB,
    "kepulauan bangka belitung": WIB, "dki jakarta": WIB, "jakarta": WIB, "banten": WIB,
    "jawa barat": WIB, "jabar": WIB, "jawa tengah": WIB, "jateng": WIB, "di yogyakarta": WIB,
    "yogyakarta": WIB, "diy": WIB, "jawa timur": WIB, "jatim": WIB, "kalimantan barat": WIB,
    "kalbar": WIB, "kalimantan tengah": WIB, "kalteng": WIB,
    "bali": WITA, "nusa tenggara barat": WITA, "ntb": WITA, "nusa tenggara timur": WITA,
    "ntt": WITA, "kalimantan selatan": WITA, "kalsel": WITA, "kalimantan timur": WITA,
    "kaltim": WITA, "kalimantan utara": WITA, "kaltara": WITA, "sulawesi utara": WITA,
    "sulut": WITA, "gorontalo": WITA, "sulawesi tengah": WITA, "sulteng": WITA,
    "sulawesi barat": WITA, "sulbar": WITA, "sulawesi selatan": WITA, "sulsel": WITA,
    "sulawesi tenggara": WITA, "sultra": WITA,
    "maluku": WIT, "maluku utara": WIT, "malut": WIT, "papua": WIT, "papua barat": WIT,
    "papua barat daya": WIT, "papua tengah": WIT, "papua pegunungan": WIT,
    "papua selatan": WIT,
}

#: provincial capitals and other cities and regencies staff files name
CITIES: dict[str, str] = {
    # WIB
    "banda aceh": WIB, "lhokseumawe": WIB, "medan": WIB, "binjai": WIB, "pematangsiantar": WIB,
    "padang": WIB, "pauh": WIB, "bukittinggi": WIB, "payakumbuh": WIB, "pekanbaru": WIB,
    "dumai": WIB, "batam": WIB, "tanjung pinang": WIB, "tanjungpinang": WIB, "palembang": WIB,
    "plaju": WIB, "lubuklinggau": WIB, "prabumulih": WIB, "pangkal pinang": WIB,
    "pangkalpinang": WIB, "bandar lampung": WIB, "metro": WIB, "serang": WIB,
    "tangerang": WIB, "cilegon": WIB, "bogor": WIB, "depok": WIB, "bekasi": WIB,
    "bandung": WIB, "cimahi": WIB, "cirebon": WIB, "sukabumi": WIB, "tasikmalaya": WIB,
    "semarang": WIB, "surakarta": WIB, "solo": WIB, "magelang": WIB, "pekalongan": WIB,
    "tegal": WIB, "salatiga": WIB, "sleman": WIB, "bantul": WIB, "surabaya": WIB,
    "mulyorejo": WIB, "malang": WIB, "kediri": WIB, "madiun": WIB, "sidoarjo": WIB,
    "jember": WIB, "banyuwangi": WIB, "pontianak": WIB, "singkawang": WIB,
    "palangka raya": WIB, "palangkaraya": WIB, "sampit": WIB,
    # WITA
    "denpasar": WITA, "badung": WITA, "gianyar": WITA, "mataram": WITA, "bima": WITA,
    "kupang": WITA, "ende": WITA, "maumere": WITA, "labuan bajo": WITA, "banjarmasin": WITA,
    "banjarbaru": WITA, "samarinda": WITA, "balikpapan": WITA, "bontang": WITA,
    "tanjung selor": WITA, "tarakan": WITA, "nunukan": WITA, "manado": WITA, "bitung": WITA,
    "tomohon": WITA, "palu": WITA, "donggala": WITA, "sigi": WITA, "poso": WITA,
    "parigi": WITA, "luwuk": WITA, "tolitoli": WITA, "mamuju": WITA, "majene": WITA,
    "makassar": WITA, "gowa": WITA, "maros": WITA, "parepare": WITA, "palopo": WITA,
    "bone": WITA, "kendari": WITA, "baubau": WITA, "kolaka": WITA,
    # WIT
    "ambon": WIT, "tual": WIT, "ternate": WIT, "sofifi": WIT, "tidore": WIT, "jayapura": WIT,
    "manokwari": WIT, "sorong": WIT, "merauke": WIT, "nabire": WIT, "wamena": WIT,
    "timika": WIT, "biak": WIT, "fakfak": WIT,
}

_PLACES = sorted({**PROVINCES, **CITIES}.items(), key=lambda kv: -len(kv[0]))
_CLEAN = re.compile(r"[^a-z ]+")


def infer_zone(*texts: str | None) -> tuple[str, str] | None:
    """(zone, the place it was read from) for the first text naming a known province or city
    (longest name first: "Papua Barat" before "Papua"), or None."""
    for text in texts:
        if not text:
            continue
        clean = " " + " ".join(_CLEAN.sub(" ", text.lower()).split()) + " "
        for place, zone in _PLACES:
            if f" {place} " in clean:
                return zone, place.title()
    return None
