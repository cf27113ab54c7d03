// Entry points for the fuzz executables; see driver.c.
#pragma once
