# Makes a node's mounts in one process (node-fence.sh runs it with `perl -e`, its text, as the checkout
# is out of reach once the node has pivoted). A node's start ran about forty `mount` processes, at some
# 3.5 ms each, three nodes at once on two cores: most of a cluster's start.
#
# Each line of stdin is one step, fields separated by tabs (state paths may hold spaces), done in order;
# the first that fails ends the batch with a message naming it.
#   mount TYPE SOURCE TARGET [OPTIONS]  a new filesystem: tmpfs, proc, overlay, devpts
#   bind SOURCE TARGET [OPTIONS]        a bind mount; option "rec" takes the mounts below along,
#                                       "ro" (and nosuid, nodev, noexec) then apply to it
#   remount-ro TARGET                   a bind mount made read-only
#   private TARGET                      TARGET and the mounts below it stop sharing mount events
#   pivot NEW_ROOT PUT_OLD              pivot_root, then to the new / (processes whose root or working
#                                       directory was the old / move along: the fence's shell too)
#   detach TARGET                       a lazy unmount (umount -l)
#   mkdir PATH...                       (existing ones are fine)
#   rmdir PATH
use strict;
use warnings;

# The system calls' numbers: from $SYSCALLS ("mount umount2 pivot_root", which the driver knows for
# x86-64 and arm64), else from Perl's syscall.ph, which takes some 35 ms to load.
my ($SYS_mount, $SYS_umount2, $SYS_pivot_root) = split / /, $ENV{SYSCALLS} // "";
unless ($SYS_pivot_root) {
  require "syscall.ph";
  ($SYS_mount, $SYS_umount2, $SYS_pivot_root) = (&SYS_mount, &SYS_umount2, &SYS_pivot_root);
}

use constant { MS_RDONLY => 1, MS_REMOUNT => 32, MS_BIND => 4096, MS_REC => 16384, MS_PRIVATE => 1 << 18, MNT_DETACH => 2 };
my %FLAGS = (ro => MS_RDONLY, nosuid => 2, nodev => 4, noexec => 8);

# The mount flags among OPTIONS, and the rest as the filesystem's own data ("mode=755").
sub options {
  my ($text) = @_;
  my ($flags, @data) = (0);
  for my $option (split /,/, $text // "") {
    if (exists $FLAGS{$option}) { $flags |= $FLAGS{$option} }
    elsif ($option ne "rec") { push @data, $option }
  }
  return ($flags, join(",", @data));
}

# syscall() passes a string as a pointer and a number as a number, so an absent argument is 0: NULL.
sub mount_call {
  my ($source, $target, $type, $flags, $data) = @_;
  return syscall($SYS_mount, $source // 0, $target, $type // 0, $flags, (defined $data && length $data) ? $data : 0) == 0;
}

while (my $line = <STDIN>) {
  chomp $line;
  next if $line eq "";
  my ($verb, @args) = split /\t/, $line;
  my $done;
  if ($verb eq "mount") {
    my ($type, $source, $target, $options) = @args;
    my ($flags, $data) = options($options);
    $done = mount_call($source, $target, $type, $flags, $data);
  } elsif ($verb eq "bind") {
    my ($source, $target, $options) = @args;
    my ($flags) = options($options);
    my $recursive = ($options // "") =~ /(?:^|,)rec(?:,|$)/ ? MS_REC : 0;
    $done = mount_call($source, $target, undef, MS_BIND | $recursive, undef)
      && ($flags == 0 || mount_call(undef, $target, undef, MS_REMOUNT | MS_BIND | $flags, undef));
  } elsif ($verb eq "remount-ro") {
    $done = mount_call(undef, $args[0], undef, MS_REMOUNT | MS_BIND | MS_RDONLY, undef);
  } elsif ($verb eq "private") {
    $done = mount_call(undef, $args[0], undef, MS_REC | MS_PRIVATE, undef);
  } elsif ($verb eq "pivot") {
    my ($here, $put_old) = (".", $args[1]); # syscall() refuses constants: it may write to a string
    $done = chdir($args[0]) && syscall($SYS_pivot_root, $here, $put_old) == 0 && chdir("/");
  } elsif ($verb eq "detach") {
    $done = syscall($SYS_umount2, $args[0], MNT_DETACH) == 0;
  } elsif ($verb eq "mkdir") {
    $done = !grep { !(-d $_ || mkdir $_) } @args;
  } elsif ($verb eq "rmdir") {
    $done = rmdir $args[0];
  } else {
    die "mount-batch: unknown step \"$verb\"\n";
  }
  $done or die "mount-batch: $verb @args: $!\n";
}
