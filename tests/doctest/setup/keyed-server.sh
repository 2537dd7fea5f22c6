# The server a page's client examples talk to after it has been set up
# as root: a shared key (the client's copy in ~/.dopy.key) and one
# listener on port 9600 with the naming and persistence services.  It
# stands in for the set-up the page shows as root, which a test cannot
# do; the launcher tests run the real daemons.
(umask 077; head -c 32 /dev/urandom > "$HOME/.dopy.key")
mkdir -p "$DT_DIR/tmp/server/ns" "$DT_DIR/tmp/server/pos"
dopyd -k "$HOME/.dopy.key" -N "$DT_DIR/tmp/server/ns" \
    -P "$DT_DIR/tmp/server/pos" -L "$DT_DIR/tmp/server/log" \
    -l "127.0.0.1:$DT_PORT_9600" &
echo $! >> "$DT_PIDS"
dt_ready "127.0.0.1:$DT_PORT_9600"
