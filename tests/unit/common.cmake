# Unit tests of common/ modules written by the lead.
postern_unit_test(test_config SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_config.c)
postern_unit_test(test_attr SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_attr.c)
postern_unit_test(test_channel SOURCES ${CMAKE_CURRENT_LIST_DIR}/test_channel.c)
