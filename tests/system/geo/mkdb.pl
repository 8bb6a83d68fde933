#!/usr/bin/perl
# mkdb.pl — MaxMind DB test databases for the geo steering tests and the geo benchmark.
#
#   mkdb.pl [--record-size 24|28|32] [--alias] OUTPUT LAYOUT IPVERSION FIXTURE
#     OUTPUT     the .mmdb file to write (written to OUTPUT.tmp, then renamed over OUTPUT, so
#                a daemon watching OUTPUT sees one atomic replacement)
#     LAYOUT     country (GeoIP2-Country: continent.code, country.iso_code) or city
#                (GeoIP2-City: adds subdivisions[0].iso_code and location.latitude/longitude)
#     IPVERSION  6 (an IPv6 tree; IPv4 networks go to its ::/96 IPv4 subtree) or 4 (an IPv4
#                tree; the fixture's IPv6 networks are left out)
#     FIXTURE    a built-in set (world, world2; `mkdb.pl --list` prints them as JSON) or a
#                JSON file: {"networks": [{"network": "127.0.1.0/24", "continent": "EU",
#                "country": "DE", "subdivision": "HE", "location": [50.1, 8.7]}, ...]}
#                (subdivision and location optional; networks are inserted in order, a later
#                one replacing an earlier one where they overlap, so a /32 inside a /24
#                splits the /24 into the networks around it as a real database does).
#   --record-size  the search tree's record size in bits: 24, 28 (the default) or 32
#   --alias        alias_ipv6_to_ipv4 (IPv6 trees): ::ffff:0:0/96, 2001::/32 and 2002::/16
#                  point at the IPv4 subtree, as in MaxMind's own databases
#
# Uses Debian's MaxMind::DB::Writer::Tree (libmaxmind-db-writer-perl). Reserved networks
# (127/8, 10/8, 2001:db8::/32 ...) are kept: the tests run on loopback and documentation
# addresses only.
use strict;
use warnings;

use Getopt::Long qw(GetOptions);
use JSON::PP qw(decode_json encode_json);
use MaxMind::DB::Writer::Tree;

# world: several prefix lengths (/16, /20, /23, /24, /25, /32, IPv6 /32, /48, /128) with gaps
# (127.0.0.0/24, 127.3/16, 10.99/16, 2001:db9::/32 are in no network). 127.x networks give the
# tests' client sockets (bound to 127.0.1.5, 127.0.2.10, ...) different countries/continents.
my @WORLD = (
	[ '127.0.1.0/24',   'EU', 'DE', 'HE',  [ 50.1,  8.7 ] ],
	[ '127.0.2.0/25',   'AS', 'JP', '13',  [ 35.7,  139.7 ] ],
	[ '127.0.2.128/25', 'EU', 'FR', 'IDF', [ 48.9,  2.4 ] ],
	[ '127.0.3.0/24',   'NA', 'US', undef, [ 39.8,  -98.6 ] ],
	[ '127.0.3.5/32',   'NA', 'US', 'CA',  [ 37.4,  -122.1 ] ],
	[ '127.1.0.0/16',   'SA', 'BR', 'SP',  [ -23.5, -46.6 ] ],
	[ '127.2.0.0/20',   'OC', 'AU', 'NSW', [ -33.9, 151.2 ] ],
	[ '127.2.16.0/20',  'AS', 'SG', undef, [ 1.3,   103.8 ] ],
	[ '10.20.0.0/24',   'AS', 'JP', undef, undef ],
	[ '10.20.1.0/24',   'EU', 'DE', undef, undef ],
	[ '10.20.2.0/23',   'NA', 'US', 'CA',  [ 37.4,  -122.1 ] ],
	[ '10.20.4.0/22',   'EU', 'GB', 'ENG', [ 51.5,  -0.1 ] ],
	[ '192.0.2.0/24',   'AF', 'ZA', 'GT',  [ -26.2, 28.0 ] ],
	[ '198.51.100.0/24', 'SA', 'AR', 'B',  [ -34.6, -58.4 ] ],
	[ '2001:db8::/32',   'EU', 'DE', undef, [ 50.1, 8.7 ] ],
	[ '2001:db8:1::/48', 'AS', 'JP', '13',  [ 35.7, 139.7 ] ],
	[ '2001:db8:2::/48', 'NA', 'US', 'CA',  [ 37.4, -122.1 ] ],
	[ '::1/128',         'OC', 'AU', 'NSW', [ -33.9, 151.2 ] ],
);

# world2: world with a changed mapping (the replacement test): 127.0.1.0/24 moves to Japan,
# 10.20.0.0/24 to Germany, 127.0.2.0/24 becomes one US network (its two /25 merge).
my @WORLD2 = map {
	my @n = @$_;
	if    ( $n[0] eq '127.0.1.0/24' ) { @n = ( $n[0], 'AS', 'JP', '13', [ 35.7, 139.7 ] ) }
	elsif ( $n[0] eq '10.20.0.0/24' ) { @n = ( $n[0], 'EU', 'DE', undef, undef ) }
	elsif ( $n[0] eq '127.0.2.0/25' ) { @n = ( '127.0.2.0/24', 'NA', 'US', undef, undef ) }
	( $n[0] eq '127.0.2.128/25' ) ? () : ( \@n );
} @WORLD;

sub fixture_json {
	my @nets = @_;
	return {
		networks => [
			map {
				my ( $net, $cont, $cc, $sub, $loc ) = @$_;
				{
					network   => $net,
					continent => $cont,
					country   => $cc,
					( defined $sub ? ( subdivision => $sub ) : () ),
					( defined $loc ? ( location    => $loc ) : () )
				}
			} @nets
		]
	};
}

my %FIXTURES = ( world => fixture_json(@WORLD), world2 => fixture_json(@WORLD2) );

my %TYPES = (
	continent    => 'map',
	country      => 'map',
	subdivisions => [ 'array', 'map' ],
	location     => 'map',
	names        => 'map',
	code         => 'utf8_string',
	iso_code     => 'utf8_string',
	en           => 'utf8_string',
	geoname_id   => 'uint32',
	latitude     => 'double',
	longitude    => 'double',
);

sub record {
	my ( $n, $layout ) = @_;
	my %r = (
		continent => { code     => $n->{continent}, names => { en => $n->{continent} } },
		country   => { iso_code => $n->{country},   names => { en => $n->{country} } },
	);
	return \%r if $layout eq 'country';
	$r{subdivisions} = [ { iso_code => $n->{subdivision} } ] if defined $n->{subdivision};
	if ( defined $n->{location} ) {
		$r{location} = {
			latitude  => 0.0 + $n->{location}[0],
			longitude => 0.0 + $n->{location}[1]
		};
	}
	return \%r;
}

sub usage {
	die "usage: mkdb.pl [--record-size 24|28|32] [--alias] OUTPUT country|city 4|6 FIXTURE\n"
	  . "       (FIXTURE: world, world2 or a JSON file)\n"
	  . "       mkdb.pl --list\n";
}

if ( @ARGV == 1 && $ARGV[0] eq '--list' ) {
	print JSON::PP->new->canonical->pretty->encode( \%FIXTURES );
	exit 0;
}
my ( $record_size, $alias ) = ( 28, 0 );
GetOptions( 'record-size=i' => \$record_size, 'alias' => \$alias ) or usage();
usage() unless @ARGV == 4;
my ( $out, $layout, $ipv, $fixture ) = @ARGV;
usage() unless $layout =~ /^(country|city)$/ && $ipv =~ /^[46]$/ && $record_size =~ /^(24|28|32)$/;
usage() if $alias && $ipv != 6;

my $desc = $FIXTURES{$fixture};
if ( !$desc ) {
	open my $fh, '<', $fixture or die "mkdb.pl: $fixture: not a fixture name nor a file: $!\n";
	local $/;
	$desc = decode_json(<$fh>);
}

my $tree = MaxMind::DB::Writer::Tree->new(
	ip_version               => $ipv,
	record_size              => $record_size,
	database_type            => $layout eq 'city' ? 'GeoIP2-City' : 'GeoIP2-Country',
	languages                => ['en'],
	description              => { en => "steerdns test database ($fixture, $layout)" },
	remove_reserved_networks => 0,
	alias_ipv6_to_ipv4       => $alias,
	map_key_type_callback    => sub { $TYPES{ $_[0] } // die "mkdb.pl: no type for key $_[0]\n" },
);
for my $n ( @{ $desc->{networks} } ) {
	next if $ipv == 4 && $n->{network} =~ /:/;
	$tree->insert_network( $n->{network}, record( $n, $layout ) );
}
open my $fh, '>:raw', "$out.tmp" or die "mkdb.pl: $out.tmp: $!\n";
$tree->write_tree($fh);
close $fh or die "mkdb.pl: $out.tmp: $!\n";
rename "$out.tmp", $out or die "mkdb.pl: rename to $out: $!\n";
