#!/usr/bin/perl
# make-geo-dbs.pl — the small MaxMind databases the geo unit tests and the example config use,
# written with Debian's MaxMind::DB::Writer (libmaxmind-db-writer-perl). The outputs are
# checked in beside this script (and as contrib/examples/geo/world.mmdb) so that a build
# needs no Perl; run it again after changing the networks below:
#   perl tests/unit/steering/data/make-geo-dbs.pl tests/unit/steering/data contrib/examples/geo
# Writes, into the first directory:
#   geo-city.mmdb      IPv6 tree with the IPv4 space aliased (GeoIP2-City layout: continent,
#                      country, subdivisions, location)
#   geo-country4.mmdb  IPv4-only tree (GeoIP2-Country layout: continent, country), 32-bit
#                      records (geo-city.mmdb has 28-bit ones)
#   geo-deep6.mmdb     IPv6 tree (City layout, 24-bit records) with IPv6 networks ending on
#                      both sides of the address's 64th bit (/63, /64, /65, /96, /127, /128)
#                      and gaps beside them: the query walk's two IPv6 paths (geo.h,
#                      steer_geo_walk: STEER_GEO_JUMP_DEEP)
# and into the second (when given) world.mmdb, a copy of geo-city.mmdb.
use strict;
use warnings;
use File::Copy qw(copy);
use MaxMind::DB::Writer::Tree;

my ($dir, $example) = @ARGV;
die "usage: $0 OUTDIR [EXAMPLEDIR]\n" unless $dir;

my %types = (
    continent    => 'map',
    country      => 'map',
    subdivisions => [ 'array', 'map' ],
    location     => 'map',
    code         => 'utf8_string',
    iso_code     => 'utf8_string',
    latitude     => 'double',
    longitude    => 'double',
);

sub rec {
    my ($cont, $ctry, $sub, $lat, $lon) = @_;
    my %r = (continent => { code => $cont }, country => { iso_code => $ctry });
    $r{subdivisions} = [ { iso_code => $sub } ] if defined $sub;
    $r{location} = { latitude => $lat, longitude => $lon } if defined $lat;
    return \%r;
}

sub tree {
    my ($ipv, $type, $bits) = @_;
    return MaxMind::DB::Writer::Tree->new(
        ip_version               => $ipv,
        record_size              => $bits,
        database_type            => $type,
        languages                => ['en'],
        description              => { en => 'steerdns geo test database' },
        map_key_type_callback    => sub { $types{ $_[0] } },
        alias_ipv6_to_ipv4       => $ipv == 6 ? 1 : 0,
        remove_reserved_networks => 0,
    );
}

sub write_tree {
    my ($t, $path) = @_;
    open my $fh, '>:raw', $path or die "$path: $!\n";
    $t->write_tree($fh);
    close $fh or die "$path: $!\n";
}

my $city = tree(6, 'steerdns-Test-City', 28);
$city->insert_network('10.1.0.0/16',     rec('EU', 'DE', 'HE',  50.1,  8.7));
$city->insert_network('10.1.2.0/25',     rec('AS', 'JP', '13',  35.7,  139.7));
$city->insert_network('10.2.0.0/16',     rec('NA', 'US', 'CA',  37.4,  -122.1));
$city->insert_network('10.3.0.0/16',     rec('NA', 'US', 'NY',  40.7,  -74.0));
$city->insert_network('10.4.0.0/16',     rec('OC', 'AU', undef, -33.9, 151.2));
$city->insert_network('10.5.0.0/16',     rec('SA', 'BR'));
$city->insert_network('10.6.0.0/20',     rec('EU', 'GB', 'ENG', 51.5,  -0.1));
$city->insert_network('127.0.0.0/24',    rec('EU', 'DE', 'HE',  50.1,  8.7));
$city->insert_network('2001:db8:1::/48', rec('EU', 'FR', 'IDF', 48.9,  2.3));
$city->insert_network('2001:db8:2::/48', rec('AS', 'JP'));
write_tree($city, "$dir/geo-city.mmdb");

my $country = tree(4, 'steerdns-Test-Country', 32);
$country->insert_network('10.1.0.0/16', rec('EU', 'DE'));
$country->insert_network('10.2.0.0/16', rec('NA', 'US'));
write_tree($country, "$dir/geo-country4.mmdb");

my $deep = tree(6, 'steerdns-Test-Deep', 24);
$deep->insert_network('10.1.0.0/16',                   rec('EU', 'DE', 'HE', 50.1, 8.7));
$deep->insert_network('10.1.2.128/25',                 rec('AS', 'JP'));
$deep->insert_network('2001:db8:1::/48',               rec('EU', 'FR', 'IDF', 48.9, 2.3));
$deep->insert_network('2001:db8:1:2::/64',             rec('AS', 'JP'));
$deep->insert_network('2001:db8:1:2:8000::/65',        rec('NA', 'US', 'CA', 37.4, -122.1));
$deep->insert_network('2001:db8:1:2:3:4::/96',         rec('SA', 'BR'));
$deep->insert_network('2001:db8:1:2:3:4:5:6/128',      rec('OC', 'AU'));
$deep->insert_network('2001:db8:1:4::/63',             rec('EU', 'GB', 'ENG', 51.5, -0.1));
$deep->insert_network('2a01:0:0:2::/63',               rec('NA', 'US', 'NY', 40.7, -74.0));
$deep->insert_network('2a01:0:0:8::/61',               rec('AS', 'JP'));
$deep->insert_network('2a02:0:0:1::/64',               rec('EU', 'DE'));
$deep->insert_network('2a03:0:0:1:2:3:4:6/127',        rec('AF', 'ZA'));
$deep->insert_network('2a03:0:0:1:2:3:4:0/126',        rec('EU', 'FR'));
$deep->insert_network('fe80::/10',                     rec('EU', 'DE'));
write_tree($deep, "$dir/geo-deep6.mmdb");

copy("$dir/geo-city.mmdb", "$example/world.mmdb") or die "$example/world.mmdb: $!\n" if $example;
