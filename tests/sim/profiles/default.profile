# Hand-written generic reader for the demo and the default tests: one slot,
# extended APDU level, T=0 and T=1, interrupt-IN endpoint. Not a real model.
# VID:PID 0d46:3001 (KOBIL KAAN Base: an extended-APDU reader that libccid
# and openccid both list, with no model-specific code) so that the stock
# bundles claim it.
name = openccid virtual reader
idVendor = 0x0d46
idProduct = 0x3001
bcdDevice = 0x0100
manufacturer = openccid
product = Virtual CCID Reader
serial = SIM0001
class_descriptor_after_endpoints = 0
interfaces = 1
if0.bInterfaceNumber = 0
if0.bInterfaceClass = 0x0b
if0.bInterfaceSubClass = 0
if0.bInterfaceProtocol = 0
if0.bNumEndpoints = 3
if0.iInterface =
if0.bLength = 54
if0.bDescriptorType = 0x21
if0.bcdCCID = 0x0110
if0.bMaxSlotIndex = 0
if0.bVoltageSupport = 0x07
if0.dwProtocols = 0x00000003
if0.dwDefaultClock = 4000
if0.dwMaximumClock = 8000
if0.bNumClockSupported = 2
if0.dwDataRate = 10752
if0.dwMaxDataRate = 344086
if0.bNumDataRatesSupported = 0
if0.dwMaxIFSD = 254
if0.dwSynchProtocols = 0
if0.dwMechanical = 0
if0.dwFeatures = 0x000400fe
if0.dwMaxCCIDMessageLength = 3072
if0.bClassGetResponse = 0xff
if0.bClassEnvelope = 0xff
if0.wLcdLayout = 0x0000
if0.bPINSupport = 0x00
if0.bMaxCCIDBusySlots = 1
if0.clock_frequencies = 4000, 8000
if0.data_rates =
