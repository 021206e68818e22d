# A bash handler in the seed's style: the event is $1, standard output is the response.
#   _HANDLER=function.handler
# fastrt sources this file once and calls the function for every event; the seed's
# bootstrap (bootstrap-seed beside this file) runs the same file with curl, for comparison.

function handler () {
  EVENT_DATA=$1
  echo "$EVENT_DATA" 1>&2;
  RESPONSE="Echoing request: '$EVENT_DATA'"

  echo $RESPONSE
}
