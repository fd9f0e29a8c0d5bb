#!/usr/bin/env bash
# `make fonts`: put the TTF/OTF files of open font packages (Debian main, DFSG-free licences) in
# FONTS (default: fonts/), one folder per package with its copyright file, for
# `textrec synth --fonts FONTS`. Packages are downloaded and unpacked, not installed: nothing
# outside FONTS changes. Idempotent: a complete FONTS is left as it is.
set -euo pipefail
FONTS=${1:-fonts}
PACKAGES="
fonts-adf-accanthis fonts-adf-baskervald fonts-adf-berenis fonts-adf-gillius fonts-adf-ikarius
fonts-adf-irianis fonts-adf-libris fonts-adf-mekanus fonts-adf-oldania fonts-adf-romande
fonts-adf-solothurn fonts-adf-switzera fonts-adf-tribun fonts-adf-universalis fonts-adf-verana
fonts-allerta fonts-anonymous-pro fonts-arapey fonts-averia-gwf fonts-averia-sans-gwf
fonts-averia-serif-gwf fonts-b612 fonts-bebas-neue fonts-beteckna fonts-blankenburg fonts-breip
fonts-cabin fonts-cabinsketch fonts-campania fonts-cantarell fonts-cardo fonts-century-catalogue
fonts-cherrybomb fonts-clear-sans fonts-comfortaa fonts-comic-neue fonts-compagnon
fonts-courier-prime fonts-crosextra-caladea fonts-crosextra-carlito fonts-croscore
fonts-dancingscript fonts-dejavu-extra fonts-dkg-handwriting fonts-dosis fonts-dustin
fonts-ebgaramond fonts-ecolier-court fonts-elstob fonts-engadget fonts-essays1743 fonts-f500
fonts-fantasque-sans fonts-fanwood fonts-femkeklaver fonts-firacode fonts-freefont-ttf
fonts-gamaliel fonts-georgewilliams fonts-gnutypewriter fonts-go fonts-gotico-antiqua
fonts-goudybookletter fonts-hack-ttf fonts-havana fonts-humor-sans fonts-inconsolata fonts-inter
fonts-isabella fonts-jetbrains-mono fonts-joscelyn fonts-junction fonts-junicode fonts-jura
fonts-karla fonts-karmilla fonts-kaushanscript fonts-klaudia-berenika fonts-kristi fonts-lato
fonts-le-murmure fonts-league-mono fonts-league-spartan fonts-leckerli-one fonts-lemonada
fonts-levien-museum fonts-levien-typoscript fonts-liberation fonts-liberation2 fonts-lindenhill
fonts-linuxlibertine fonts-lobster fonts-lobstertwo fonts-manrope fonts-millimetre
fonts-monofur fonts-mononoki fonts-national-park fonts-ocr-a fonts-ocr-b fonts-oflb-euterpe
fonts-okolaks fonts-oldstandard fonts-open-sans fonts-opendin fonts-opendyslexic fonts-osifont
fonts-oxygen fonts-paratype fonts-play fonts-prociono fonts-quattrocento fonts-quicksand
fonts-radisnoir fonts-reggae fonts-roadgeek fonts-roboto-unhinted fonts-roboto-slab
fonts-routed-gothic fonts-rufscript fonts-sil-andika fonts-sil-charis fonts-sil-doulos
fonts-sil-gentiumplus fonts-sora fonts-staypuft fonts-summersby fonts-texgyre fonts-tiresias
fonts-tomsontalks fonts-tuffy fonts-ubuntu-title fonts-urw-base35 fonts-vollkorn
fonts-yanone-kaffeesatz fonts-yrsa-rasa
"
wanted=$(echo $PACKAGES | tr ' ' '\n' | sort | tr '\n' ' ')
if [ -f "$FONTS/.packages" ] && [ "$(cat "$FONTS/.packages")" = "$wanted" ]; then
    echo "make fonts: $FONTS is complete ($(echo $PACKAGES | wc -w) packages)"; exit 0
fi
if ! command -v apt-get >/dev/null || ! command -v dpkg-deb >/dev/null; then
    echo "make fonts: apt-get/dpkg-deb not found (not a Debian-like system): put TTF/OTF files" \
         "of open fonts (e.g. Google Fonts) in $FONTS and pass --fonts $FONTS" >&2
    exit 1
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
download() {  # all at once; if that fails, one by one (a package missing from this release)
    (cd "$work" && apt-get download -q $PACKAGES >"$work/apt.log" 2>&1) && return
    for pkg in $PACKAGES; do
        (cd "$work" && apt-get download -q "$pkg" >>"$work/apt.log" 2>&1) || true
    done
    ls "$work"/*.deb >/dev/null 2>&1
}
if ! download && ! { [ "$(id -u)" = 0 ] && apt-get update -qq && download; }; then
    echo "make fonts: apt-get download failed (see below); as root, run 'apt-get update'" \
         "and try again" >&2
    tail -5 "$work/apt.log" >&2
    exit 1
fi
missing=$(echo $PACKAGES | wc -w)
missing=$((missing - $(ls "$work"/*.deb | wc -l)))
[ "$missing" = 0 ] || echo "make fonts: $missing packages not found in this release (skipped)" >&2
tmp="$FONTS.tmp-$$"
rm -rf "$tmp"
for deb in "$work"/*.deb; do
    pkg=$(dpkg-deb -f "$deb" Package)
    dpkg-deb -x "$deb" "$work/root-$pkg"
    mkdir -p "$tmp/$pkg"
    find "$work/root-$pkg" -type f \( -iname '*.ttf' -o -iname '*.otf' \) -exec cp {} "$tmp/$pkg/" \;
    cp "$work/root-$pkg/usr/share/doc/$pkg/copyright" "$tmp/$pkg/copyright" 2>/dev/null || true
done
echo "$wanted" >"$tmp/.packages"
rm -rf "$FONTS"
mv "$tmp" "$FONTS"
echo "make fonts: $(find "$FONTS" -type f \( -iname '*.ttf' -o -iname '*.otf' \) | wc -l) font" \
     "files of $(echo $PACKAGES | wc -w) packages in $FONTS (licences: $FONTS/*/copyright)"
