# Run by ctest (`cmake -P`) before every test that needs a broker: fails,
# with the way out, when the environment names none, so that those tests are
# reported as not run rather than skipping quietly.
foreach(var MQTTC_TEST_HOST MQTTC_TEST_PORT)
  if(NOT DEFINED ENV{${var}} OR "$ENV{${var}}" STREQUAL "")
    message(FATAL_ERROR
      "${var} is not set: the tests need a broker. Run scripts/test.sh, or start one with\n"
      "  scripts/broker.sh start /tmp/mqttc-broker && . /tmp/mqttc-broker/env\n"
      "before ctest (and scripts/broker.sh stop /tmp/mqttc-broker afterwards).")
  endif()
endforeach()
message(STATUS "test broker: $ENV{MQTTC_TEST_HOST}:$ENV{MQTTC_TEST_PORT}")
