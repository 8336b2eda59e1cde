# Registers the benchmark's smoke run with CTest. tests/CMakeLists.txt
# includes this file. The run starts its own servers on loopback ports and
# loads both cores, so it runs alone. It uses this build's binaries instead
# of building build-bench in Release mode.
add_test(NAME bench_smoke
         COMMAND env FDGW_BENCH_GATEWAY=$<TARGET_FILE:fulldatos-gateway>
                 FDGW_BENCH_SIM=$<TARGET_FILE:fulldatos-sim>
                 bash ${CMAKE_CURRENT_LIST_DIR}/run.sh --smoke)
set_tests_properties(bench_smoke PROPERTIES RUN_SERIAL TRUE TIMEOUT 300)
