#!/usr/bin/perl
# geo_bench_db.pl — a synthetic GeoIP2-City-layout database for contrib/bench/steer_bench.c's
# geo case (no real GeoLite2/DB-IP file is assumed to be at hand): NETS networks (/12 to /24)
# spread over 10.0.0.0/8 and 100.64.0.0/10, plus /32../48 in 2001:db8::/32, each with one of
# RECORDS distinct records (continent, country, first subdivision, location).
#   perl contrib/bench/geo_bench_db.pl OUT.mmdb [NETS (20000)] [RECORDS (2000)]
use strict;
use warnings;
use MaxMind::DB::Writer::Tree;

my ($out, $nets, $records) = @ARGV;
die "usage: $0 OUT.mmdb [NETS] [RECORDS]\n" unless $out;
$nets    ||= 20000;
$records ||= 2000;
srand(10);
my %types = (continent => 'map', country => 'map', subdivisions => ['array', 'map'],
    location => 'map', code => 'utf8_string', iso_code => 'utf8_string',
    latitude => 'double', longitude => 'double');
my @cont = qw(AF AS EU NA OC SA);
my @recs;
for my $i (0 .. $records - 1) {
    my $c = $cont[$i % @cont];
    my $cc = chr(65 + ($i * 7) % 26) . chr(65 + ($i * 11) % 26);
    push @recs, {continent => {code => $c}, country => {iso_code => $cc},
        subdivisions => [{iso_code => sprintf('%02d', $i % 60)}],
        location => {latitude => -60 + ($i * 37) % 120 + 0.5, longitude => -170 + ($i * 53) % 340 + 0.25}};
}
my $tree = MaxMind::DB::Writer::Tree->new(ip_version => 6, record_size => 28,
    database_type => 'steerdns-Bench-City', languages => ['en'],
    description => {en => 'steerdns geo benchmark'}, map_key_type_callback => sub { $types{$_[0]} },
    alias_ipv6_to_ipv4 => 1, remove_reserved_networks => 0);
my @list;
for my $n (1 .. $nets) {
    my $len = 12 + int(rand(13));
    my $a = int(rand(2)) ? (10 << 24) | int(rand(1 << 24)) : (100 << 24) | (64 << 16) | int(rand(1 << 22));
    $a &= ~((1 << (32 - $len)) - 1) & 0xffffffff;
    my $net = join('.', ($a >> 24) & 255, ($a >> 16) & 255, ($a >> 8) & 255, $a & 255) . "/$len";
    push @list, [$len, $net];
}
# shorter networks first: a longer one inserted later carves its range out of them
for my $e (sort { $a->[0] <=> $b->[0] } @list) {
    $tree->insert_network($e->[1], $recs[int(rand($records))]);
}
for my $n (1 .. $nets / 10) {
    my $net = sprintf('2001:db8:%x:%x::/%d', int(rand(65536)), int(rand(65536)) & 0xff00, 32 + int(rand(17)));
    eval { $tree->insert_network($net, $recs[int(rand($records))]) };
}
open my $fh, '>:raw', $out or die "$out: $!\n";
$tree->write_tree($fh);
close $fh or die "$out: $!\n";
