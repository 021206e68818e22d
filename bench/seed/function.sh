# The seed's bash echo handler: the bootstrap calls it with the event as $1 and posts what it prints.
function handler () {
  EVENT_DATA=$1
  echo "$EVENT_DATA"
}
